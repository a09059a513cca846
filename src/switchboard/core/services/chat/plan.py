"""What `ChatEngine.start` decides between reading a conversation and writing the turn's rows.

Pure and synchronous, so the same rules serve both ways a turn starts: inside one storage step
(read, plan, write; when nothing the plan needs takes I/O) and in two (read; resolve the model
and inline files by awaiting; write). Every refusal is raised here or by the quota hold in
`store`, so nothing is written when a turn is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Conversation, Message, MessageStatus, TokenUsage
from switchboard.core.domain.errors import Forbidden, InvalidInput, NotFound
from switchboard.core.domain.platforms import Profile
from switchboard.core.domain.tools import ToolSpec
from switchboard.core.domain.users import Principal, User
from switchboard.core.ports.storage import Tx
from switchboard.core.ports.system import TokenCounter
from switchboard.core.services.chat.history_cache import CachedHistory, HistoryCache, PendingHistory
from switchboard.core.services.quotas.allowances import Hold, QuotaService, metered_key
from switchboard.core.services.tools.runner import ToolRunner

DEFAULT_TITLE_PREFIXES = ("New conversation", "新会话", "New chat")


@dataclass(frozen=True, slots=True)
class TurnContext:
    """What a turn reads before it starts."""

    conversation: Conversation
    user: User | None
    history: list[Message]
    profile: Profile | None
    cached: CachedHistory | None  # `history`'s snapshot when it came from the worker's cache


@dataclass(frozen=True, slots=True)
class Draft:
    """The turn's words before they become the provider's messages."""

    system_prompt: str | None
    said: list[Message]  # the history the provider sees, ending with the question
    question: Message  # the new user message, or on a retry the stored one asked again
    superseded: list[Message]  # marked deleted by this turn (a retry's old answer, an edited question)
    retry: bool
    offered: list[ToolSpec]


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the turn writes and then sends."""

    model: str
    conversation: Conversation
    draft: Draft
    messages: list[dict[str, Any]]
    answer: Message  # the answer's row, streaming, before it has an id
    prompt_estimate: int
    max_tokens: int | None
    request: ChatRequest
    context: TurnContext  # what the plan was made from


@dataclass(frozen=True, slots=True)
class Stored:
    hold: Hold
    question: Message  # with its id once stored (a retry's is stored already)
    answer: Message
    rows_written: int  # message rows inserted or updated: each bumps the conversation's revision


async def read_context(
    tx: Tx, principal: Principal, conversation_id: str, history_messages: int, cache: HistoryCache,
) -> TurnContext:
    """The history comes from the worker's cache when it holds the conversation's revision just
    read (history_cache.py); it may run on a storage thread, so a miss is not snapshotted here."""
    found = await tx.turns.conversation_and_owner(conversation_id)
    if found is None or found[0].user_id != principal.user_id:
        raise NotFound("conversation not found")  # as conversations.history.owned_conversation
    conversation, user = found
    cached = cache.get(conversation.id, conversation.revision, history_messages)
    history = cached.messages() if cached else await tx.messages.list(conversation.id, history_messages)
    profile = await tx.profiles.get(conversation.profile_id) if conversation.profile_id else None
    return TurnContext(conversation, user, history, profile, cached)


def pick_model(context: TurnContext, request: ChatRequest, principal: Principal, default_model: str) -> str:
    # precedence: this turn's override > the conversation's own setting > its profile > defaults
    profile = context.profile
    model = request.model or context.conversation.settings.model or (profile and profile.model) or default_model
    if principal.allowed_models and model not in principal.allowed_models:
        raise Forbidden(f"this API key may not use the model '{model}'")
    return model


def draft_turn(
    context: TurnContext, request: ChatRequest, principal: Principal, now: datetime, tools: ToolRunner,
    specs: list[ToolSpec],
) -> Draft:
    conversation, profile, settings = context.conversation, context.profile, context.conversation.settings
    history = context.history
    if request.prior:
        history = [*_prior_messages(request, conversation.id, now), *history]
    retry = request.regenerate and request.edit_message_id is None
    superseded: list[Message] = []
    if retry or request.edit_message_id is not None:
        history, last_question, superseded = _split_for_retry(history)
    if retry:
        question = last_question
    else:
        if request.edit_message_id is not None:
            if last_question.id != request.edit_message_id:
                raise InvalidInput("only the last user message can be edited and sent again",
                                   param="edit_message_id")
            superseded = [last_question, *superseded]
        question = Message(
            id=0, conversation_id=conversation.id, role="user", parts=request.parts,
            status=MessageStatus.COMPLETED, created_at=now, updated_at=now,
        )
    tools_enabled = request.tools_enabled if request.tools_enabled is not None else (
        settings.tools_enabled and (profile is None or profile.tools_enabled)
    )
    user_tools = context.user.settings.get("tools") if context.user else None
    offered = tools.offer(specs, user_tools if isinstance(user_tools, list) else None, principal) if (
        tools_enabled) else []
    if profile is not None and profile.allowed_tools is not None:
        offered = [t for t in offered if t.name in profile.allowed_tools or t.category in profile.allowed_tools]
    system_prompt = settings.system_prompt or (profile.system_prompt if profile else None)
    return Draft(system_prompt, [*history, question], question, superseded, retry, offered)


def plan_turn(
    context: TurnContext, draft: Draft, request: ChatRequest, model: str, messages: list[dict[str, Any]],
    counter: TokenCounter, now: datetime, worker_id: str,
) -> Plan:
    settings, profile, conversation = context.conversation.settings, context.profile, context.conversation
    prompt_estimate = counter.count_messages(messages) + sum(
        counter.count_text(str(s.parameters)) + 10 for s in draft.offered
    )
    if request.temperature is None and settings.temperature is None and profile and profile.temperature is not None:
        request = request.model_copy(update={"temperature": profile.temperature})
    if not context.history:
        _retitle(conversation, draft.question)
    conversation.updated_at = now
    # streaming, by this worker, with the prompt's estimate: what crash recovery charges
    # (plus the text streamed so far) if this worker dies before the turn ends
    answer = Message(
        id=0, conversation_id=conversation.id, role="assistant", parts=[],
        status=MessageStatus.STREAMING, created_at=now, updated_at=now, model=model,
        usage=TokenUsage(prompt_tokens=prompt_estimate, estimated=True), worker_id=worker_id,
    )
    return Plan(model, conversation, draft, messages, answer, prompt_estimate,
                request.max_tokens or settings.max_tokens, request, context)


async def store(tx: Tx, plan: Plan, quotas: QuotaService, principal: Principal) -> Stored:
    """One write transaction: the hold, the user's message and the answer's row stand or fall
    together, and are durable before the provider is called."""
    draft = plan.draft
    if draft.superseded:
        await tx.messages.mark_deleted([m.id for m in draft.superseded])
    conversation = plan.conversation
    if not draft.retry and metered_key(principal) is None:  # the usual turn: its rows and hold at once
        question, answer, hold = await quotas.start_turn_in(
            tx, principal, draft.question, plan.answer, conversation, plan.prompt_estimate, plan.max_tokens)
        return Stored(hold, question, answer, len(draft.superseded) + 2)
    question = draft.question if draft.retry else await tx.messages.add(draft.question)
    answer = await tx.messages.add(plan.answer)
    await tx.conversations.touch(conversation.id, conversation.updated_at, conversation.title)
    # Last, as it locks the user's quota row until the commit (on PostgreSQL each statement after
    # it is a round trip with every other turn of that user queued on the row); a refusal here
    # rolls the rows above back with it.
    hold = await quotas.reserve_in(tx, principal, plan.prompt_estimate, plan.max_tokens, answer.id)
    return Stored(hold, question, answer, len(draft.superseded) + (1 if draft.retry else 2))


def pending_history(cache: HistoryCache, plan: Plan, stored: Stored, history_messages: int) -> PendingHistory:
    """What the started turn may leave in the worker's cache once it ends (history_cache.py)."""
    context, draft = plan.context, plan.draft
    if not cache.enabled or plan.request.prior:  # prior turns are the client's, never stored
        return PendingHistory.untracked(context.conversation.id)
    revision = context.conversation.revision
    read = context.cached or CachedHistory.of(revision, history_messages, context.history)
    return PendingHistory(cache, context.conversation.id, read, revision + stored.rows_written,
                          {m.id for m in draft.superseded}, None if draft.retry else stored.question)


def _split_for_retry(history: list[Message]) -> tuple[list[Message], Message, list[Message]]:
    """For a retry: the history before the last user message, that message, and what followed it
    (the old answer, which is marked deleted so it leaves the context but is not lost). An edit
    supersedes the question too, the same way: as in Open WebUI and LibreChat, where a regenerated
    answer or an edited question is a new sibling and the old one stays, nothing is overwritten;
    here the old one is kept marked deleted (out of lists and context, still in the database)."""
    for index in range(len(history) - 1, -1, -1):
        if history[index].role == "user":
            return history[:index], history[index], history[index + 1:]
    raise InvalidInput("there is no earlier question to retry")


def _prior_messages(request: ChatRequest, conversation_id: str, now: datetime) -> list[Message]:
    return [
        Message(id=0, conversation_id=conversation_id, role=turn.role, parts=turn.parts,
                status=MessageStatus.COMPLETED, created_at=now, updated_at=now)
        for turn in request.prior
    ]


def _retitle(conversation: Conversation, first: Message) -> None:
    if conversation.title.startswith(DEFAULT_TITLE_PREFIXES) and first.text.strip():
        conversation.title = " ".join(first.text.split())[:60]
