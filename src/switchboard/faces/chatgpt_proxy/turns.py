"""Starting and finishing turns for the proxy's handlers: every answer goes through the one
engine (`services.chat`), in conversations owned by the caller.

Completions and edits are stateless on the wire, so each result runs as one turn in a
conversation of its own (origin `chatgpt_proxy`, kept like any other, so the user can read it
back and usage is attributed to it). `n > 1` runs n such turns side by side: n honest,
independent samples, each reserved and settled against the quota on its own, rather than an
`n` passed upstream that the engine could neither store nor count per answer.
"""

from __future__ import annotations

import asyncio
import contextlib

from switchboard.core.domain import events as ev
from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Conversation
from switchboard.core.domain.errors import DomainError, NotFound
from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.core.services.chat.turn import Turn
from switchboard.core.services.conversations.history import NewConversation
from switchboard.faces.chatgpt_proxy.envelope import error_for


async def start_turn(
    services: Services, principal: Principal, chatcode: str | None, new: NewConversation,
    request: ChatRequest,
) -> tuple[Conversation, Turn]:
    """Continue the caller's conversation `chatcode`, or start one from `new` when there is none
    or it names no conversation of the caller's (the document's own example sends a chatcode the
    server has never seen; another user's is the same as an unknown one, and is never touched);
    the answer carries the new code. Then start the turn. A conversation started here that could
    not take its first turn (quota, unknown model ...) is removed again, so failures leave no litter."""
    conversation = await _existing(services, principal, chatcode) if chatcode else None
    started_here = conversation is None
    if conversation is None:
        conversation = await services.conversations.create(principal, new)
    try:
        turn = await services.chat.start(request.model_copy(update={"conversation_id": conversation.id}), principal)
    except DomainError:
        if started_here:
            with contextlib.suppress(DomainError):
                await services.conversations.delete(principal, conversation.id)
        raise
    return conversation, turn


async def _existing(services: Services, principal: Principal, chatcode: str) -> Conversation | None:
    try:
        return await services.conversations.get(principal, chatcode)
    except NotFound:
        return None


async def answer(turn: Turn) -> str:
    """Run the turn to its end; its text, or the DomainError it failed with."""
    async for event in turn.events():
        if isinstance(event, ev.Done):
            return event.content
        if isinstance(event, ev.Failed):
            raise error_for(event.code, event.message)
    raise DomainError("the answer ended unexpectedly")


async def one_shot(services: Services, principal: Principal, new: NewConversation, request: ChatRequest) -> str:
    _, turn = await start_turn(services, principal, None, new, request)
    return await answer(turn)


async def many_shots(
    services: Services, principal: Principal, shots: list[tuple[NewConversation, ChatRequest]]
) -> list[str]:
    """Every shot at once; the first failure cancels the rest and is raised as it is."""
    if len(shots) == 1:
        return [await one_shot(services, principal, *shots[0])]
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one_shot(services, principal, *shot)) for shot in shots]
    except ExceptionGroup as failed:
        domain = failed.subgroup(DomainError)
        if domain is None:
            raise
        first = domain.exceptions[0]
        raise first if isinstance(first, DomainError) else domain from None
    return [task.result() for task in tasks]
