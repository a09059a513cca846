"""A Mio-Chat client that lost its socket mid-answer reconnects and sends the same completions
frame again (same request_id): it gets that answer's frames from its start, then the live tail,
on any worker, instead of a new call of the model (core.services.chat.replay).

Which answer a request_id started is kept in the contact's conversation (its meta, the newest
MAX_KEPT request ids), so another worker finds it and only the same user can (conversations are
the owner's). The clients make a fresh request_id for every question — the raw-WebSocket client
`genRequestID()` (timestamp + random, frontend src/lib/websocket.js `streamCompletions`, Feb 2025
af00dbd), the Socket.IO client the message's own id (src/lib/websocket.js `streamCompletions`,
`metaData.messageId`) — so a request_id seen again after its answer ended is the same question
sent again, never a new one: it gets the stored answer."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from switchboard.core.domain import events as ev
from switchboard.core.domain.chat import PriorTurn
from switchboard.core.domain.conversations import Conversation
from switchboard.core.domain.errors import DomainError
from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.core.services.conversations.history import ConversationPatch
from switchboard.faces.miochat.schemas import RequestId
from switchboard.faces.miochat.stream import OpenaiFrames
from switchboard.faces.miochat.threads import OPENAI_ORIGIN, thread_key

REQUESTS = "miochat_requests"  # conversation meta: request_id -> the answer's first message id
MAX_KEPT = 16


async def answer_of(services: Services, principal: Principal, client_id: str, prior: list[PriorTurn],
                    question_text: str, request_id: RequestId) -> int | None:
    """The answer this user's request_id started in this contact's conversation, if any."""
    if request_id is None:
        return None
    found = await services.conversations.find(principal, OPENAI_ORIGIN, thread_key(client_id, prior, question_text))
    kept = found.meta.get(REQUESTS) if found is not None else None
    message_id = kept.get(str(request_id)) if isinstance(kept, dict) else None
    return message_id if isinstance(message_id, int) else None


async def remember(services: Services, principal: Principal, conversation: Conversation, request_id: RequestId,
                   message_id: int) -> None:
    if request_id is None:
        return
    kept = conversation.meta.get(REQUESTS)
    recent = list(kept.items()) if isinstance(kept, dict) else []
    recent = [*recent[-(MAX_KEPT - 1):], (str(request_id), message_id)]
    # resuming is a convenience: a conversation deleted meanwhile must not fail the answer
    with contextlib.suppress(DomainError):
        patch = ConversationPatch(meta={REQUESTS: dict(recent)})
        await services.conversations.update(principal, conversation.id, patch)


async def resumed_frames(events: AsyncIterator[ev.ChatEvent], frames: OpenaiFrames) -> AsyncIterator[dict[str, Any]]:
    """The answer's frames again; an answer whose events are no longer kept comes back as its
    stored Done only, so its text goes out as one update before `completed`."""
    streamed = False
    try:
        async for event in events:
            streamed = streamed or isinstance(event, ev.TextDelta)
            if isinstance(event, ev.Done) and event.content and not streamed:
                yield frames.update(event.content)
            frame = frames.render(event)
            if frame is not None:
                yield frame
    finally:
        await events.aclose()  # type: ignore[attr-defined]
