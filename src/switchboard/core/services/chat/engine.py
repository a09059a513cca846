"""The one path every face and platform takes to talk to a model.

    turn = await engine.start(request, principal)   # checks, quota hold, user message committed
    async for event in turn.events(): ...            # the model streams; tools run; all is stored

`start` raises DomainError before anything streams, so a face can answer with its own error
status; `run` wraps both for callers that only want events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Conversation, Message, MessageStatus, TokenUsage
from switchboard.core.domain.errors import DomainError, Forbidden, InvalidInput
from switchboard.core.domain.events import ChatEvent, Failed
from switchboard.core.domain.network import refuse_private_url
from switchboard.core.domain.platforms import Profile
from switchboard.core.domain.users import Principal, User
from switchboard.core.ports.providers import ModelCatalog
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import Clock, TokenCounter
from switchboard.core.ports.telemetry import NO_TELEMETRY, Telemetry
from switchboard.core.services.chat.context import provider_messages
from switchboard.core.services.chat.metered import MeteredProvider
from switchboard.core.services.chat.turn import Turn, TurnDeps
from switchboard.core.services.conversations.history import owned_conversation
from switchboard.core.services.media.files import FileService
from switchboard.core.services.quotas.allowances import Hold, QuotaService
from switchboard.core.services.tools.runner import ToolRunner

DEFAULT_TITLE_PREFIXES = ("New conversation", "新会话", "New chat")


@dataclass(frozen=True, slots=True)
class EngineSettings:
    flush_seconds: float = 2.0
    history_messages: int = 100
    max_message_chars: int = 200_000
    # image URLs in messages are fetched by the provider, which may sit inside the private network
    allow_private_urls: bool = False


class ChatEngine:
    def __init__(
        self, uow: UnitOfWork, catalog: ModelCatalog, quotas: QuotaService, tools: ToolRunner,
        files: FileService, counter: TokenCounter, clock: Clock, settings: EngineSettings,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._uow = uow
        self._catalog = catalog
        self._quotas = quotas
        self._tools = tools
        self._files = files
        self._counter = counter
        self._clock = clock
        self.settings = settings
        self._telemetry = telemetry

    async def run(self, request: ChatRequest, principal: Principal) -> AsyncIterator[ChatEvent]:
        try:
            turn = await self.start(request, principal)
        except DomainError as exc:
            yield Failed(exc.code, exc.message)
            return
        async for event in turn.events():
            yield event

    async def start(self, request: ChatRequest, principal: Principal) -> Turn:
        self._check_request(request)
        conversation, user, history, profile = await self._uow.run_read(
            lambda tx: _turn_context(tx, principal, request.conversation_id, self.settings.history_messages)
        )
        # precedence: this turn's override > the conversation's own setting > its profile > defaults
        settings = conversation.settings
        system_prompt = settings.system_prompt or (profile.system_prompt if profile else None)
        model = request.model or settings.model or (profile and profile.model) or self._catalog.default_model
        if principal.allowed_models and model not in principal.allowed_models:
            raise Forbidden(f"this API key may not use the model '{model}'")
        provider, upstream_model = await self._catalog.resolve(model)

        now = self._clock.now()
        stored = history
        if request.prior:
            history = [*_prior_messages(request, conversation.id, now), *history]
        retry = request.regenerate and request.edit_message_id is None
        superseded: list[Message] = []
        if retry or request.edit_message_id is not None:
            history, last_question, superseded = _split_for_retry(history)
        if retry:
            user_message = last_question
        else:
            if request.edit_message_id is not None:
                if last_question.id != request.edit_message_id:
                    raise InvalidInput("only the last user message can be edited and sent again",
                                       param="edit_message_id")
                superseded = [last_question, *superseded]
            user_message = Message(
                id=0, conversation_id=conversation.id, role="user", parts=request.parts,
                status=MessageStatus.COMPLETED, created_at=now, updated_at=now,
            )
        tools_enabled = request.tools_enabled if request.tools_enabled is not None else (
            settings.tools_enabled and (profile is None or profile.tools_enabled)
        )
        user_tools = user.settings.get("tools") if user else None
        offered = await self._tools.offered(user_tools if isinstance(user_tools, list) else None, principal) if (
            tools_enabled) else []
        if profile is not None and profile.allowed_tools is not None:
            offered = [t for t in offered if t.name in profile.allowed_tools or t.category in profile.allowed_tools]

        async def image_uri(file_id: str) -> str:
            return await self._files.data_uri(principal.user_id, file_id)

        async def file_text(file_id: str) -> str | None:
            return await self._files.text(principal.user_id, file_id, self.settings.max_message_chars)

        messages = await provider_messages(system_prompt, [*history, user_message], image_uri, file_text)
        prompt_estimate = self._counter.count_messages(messages) + sum(
            self._counter.count_text(str(s.parameters)) + 10 for s in offered
        )
        max_tokens = request.max_tokens or settings.max_tokens
        if request.temperature is None and settings.temperature is None and profile and profile.temperature is not None:
            request = request.model_copy(update={"temperature": profile.temperature})
        if not stored:
            _retitle(conversation, user_message)
        conversation.updated_at = now
        # streaming, by this worker, with the prompt's estimate: what crash recovery charges
        # (plus the text streamed so far) if this worker dies before the turn ends
        answer = Message(
            id=0, conversation_id=conversation.id, role="assistant", parts=[],
            status=MessageStatus.STREAMING, created_at=now, updated_at=now, model=model,
            usage=TokenUsage(prompt_tokens=prompt_estimate, estimated=True), worker_id=self._quotas.worker_id,
        )
        question = None if retry else user_message

        async def store(tx: Tx) -> tuple[Hold, Message | None, Message]:
            # one write transaction: the hold, the user's message and the answer's row stand or
            # fall together, and are durable before the provider is called
            if superseded:
                await tx.messages.mark_deleted([m.id for m in superseded])
            added = await tx.messages.add(question) if question is not None else None
            assistant = await tx.messages.add(answer)
            # a refusal here rolls the rows above back with it
            hold = await self._quotas.reserve_in(tx, principal, prompt_estimate, max_tokens, assistant.id)
            await tx.conversations.update(conversation)
            return hold, added, assistant

        hold, added, assistant = await self._uow.run(store)
        if added is not None:
            user_message = added
        deps = TurnDeps(self._uow, self._quotas, self._tools, self._counter, self._clock, self.settings.flush_seconds)
        metered = MeteredProvider(provider, self._telemetry, model)
        return Turn(
            deps, principal, conversation, user_message, assistant, model, metered, upstream_model,
            messages, offered, hold, request,
        )

    def _check_request(self, request: ChatRequest) -> None:
        if not self.settings.allow_private_urls:
            for part in [*request.parts, *(p for turn in request.prior for p in turn.parts)]:
                if part.url:
                    refuse_private_url(part.url, what=f"{part.type} url")
        if request.regenerate and request.edit_message_id is None:
            return
        if not request.parts or not any((p.text or "").strip() or p.type != "text" for p in request.parts):
            raise InvalidInput("the message is empty", param="content")
        size = sum(len(p.text or "") for p in request.parts)
        if size > self.settings.max_message_chars:
            raise InvalidInput(
                f"the message is too long ({size} characters; the limit is {self.settings.max_message_chars})",
                param="content",
            )


async def _turn_context(
    tx: Tx, principal: Principal, conversation_id: str, history_messages: int
) -> tuple[Conversation, User | None, list[Message], Profile | None]:
    """What a turn reads before it starts, in one read step."""
    conversation = await owned_conversation(tx, principal, conversation_id)
    user = await tx.users.get(principal.user_id)
    history = await tx.messages.list(conversation.id, history_messages)
    profile = await tx.profiles.get(conversation.profile_id) if conversation.profile_id else None
    return conversation, user, history, profile


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
