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
from typing import NamedTuple

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.errors import DomainError, InvalidInput
from switchboard.core.domain.events import ChatEvent, Failed
from switchboard.core.domain.network import refuse_private_url
from switchboard.core.domain.tools import ToolSpec
from switchboard.core.domain.users import Principal
from switchboard.core.ports.providers import ChatProvider, ModelCatalog
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import Clock, TokenCounter
from switchboard.core.ports.telemetry import NO_TELEMETRY, Telemetry
from switchboard.core.services.chat.context import (
    NO_FILES,
    build_messages,
    files_to_inline,
    inlined_parts,
    provider_messages,
)
from switchboard.core.services.chat.history_cache import HistoryCache
from switchboard.core.services.chat.metered import MeteredProvider
from switchboard.core.services.chat.plan import (
    Plan,
    Stored,
    TurnContext,
    draft_turn,
    pending_history,
    pick_model,
    plan_turn,
    read_context,
    store,
)
from switchboard.core.services.chat.turn import Turn, TurnDeps
from switchboard.core.services.media.files import FileService
from switchboard.core.services.quotas.allowances import QuotaService
from switchboard.core.services.tools.runner import ToolRunner


@dataclass(frozen=True, slots=True)
class EngineSettings:
    flush_seconds: float = 2.0
    history_messages: int = 100
    max_message_chars: int = 200_000
    # image URLs in messages are fetched by the provider, which may sit inside the private network
    allow_private_urls: bool = False
    # the worker's cache of recent history (history_cache.py): conversations, and roughly the
    # memory its messages take in all
    history_cache_conversations: int = 2000
    history_cache_bytes: int = 32_000_000


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
        self._history = HistoryCache(settings.history_cache_conversations, settings.history_cache_bytes)
        # what every turn shares, made once (a frozen dataclass costs a call per field to build)
        self._turn_deps = TurnDeps(uow, quotas, tools, counter, clock, settings.flush_seconds)

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
        # a turn asked without tools offers none (draft_turn): no need to ask the tool host
        specs = [] if request.tools_enabled is False else await self._tools.specs()
        now = self._clock.now()
        if not inlined_parts([*request.parts, *(p for turn in request.prior for p in turn.parts)]):
            first = await self._uow.run(lambda tx: self._in_one_step(tx, request, principal, specs, now))
            if isinstance(first, _Started):
                return self._turn(principal, *first)
            context = first
        else:  # the new message inlines a file (awaited from the blob store): two steps, surely
            context = await self._uow.run_read(
                lambda tx: read_context(tx, principal, request.conversation_id, self.settings.history_messages,
                                        self._history)
            )
        # The two steps: the model's resolution or an inlined file needs I/O the storage step may
        # not await, so it happens here, between the read and the write, by the same rules.
        model = pick_model(context, request, principal, self._catalog.default_model)
        resolved = await self._catalog.resolve(model)
        draft = draft_turn(context, request, principal, now, self._tools, specs)

        async def image_uri(file_id: str) -> str:
            return await self._files.data_uri(principal.user_id, file_id)

        async def file_text(file_id: str) -> str | None:
            return await self._files.text(principal.user_id, file_id, self.settings.max_message_chars)

        messages = await provider_messages(draft.system_prompt, draft.said, image_uri, file_text)
        plan = plan_turn(context, draft, request, model, messages, self._counter, now, self._quotas.worker_id)
        stored = await self._uow.run(lambda tx: store(tx, plan, self._quotas, principal))
        return self._turn(principal, plan, resolved, stored)

    async def _in_one_step(
        self, tx: Tx, request: ChatRequest, principal: Principal, specs: list[ToolSpec], now: datetime,
    ) -> _Started | TurnContext:
        """Read, plan and write as one storage step (one hand-off to SQLite's writer, one
        `run_sync` on PostgreSQL) when the plan needs no I/O: the model resolved from the
        catalog's fresh listings, no stored file to inline. Otherwise only what was read, with
        nothing written, for the two-step way to go on from. It runs where the database is (on
        SQLite the writer thread), so it calls nothing that touches the event loop."""
        context = await read_context(tx, principal, request.conversation_id, self.settings.history_messages,
                                     self._history)
        model = pick_model(context, request, principal, self._catalog.default_model)
        resolved = self._catalog.resolve_cached(model)
        if resolved is None:
            return context
        draft = draft_turn(context, request, principal, now, self._tools, specs)
        if files_to_inline(draft.said):
            return context
        messages = build_messages(draft.system_prompt, draft.said, NO_FILES)
        plan = plan_turn(context, draft, request, model, messages, self._counter, now, self._quotas.worker_id)
        return _Started(plan, resolved, await store(tx, plan, self._quotas, principal))

    def _turn(self, principal: Principal, plan: Plan, resolved: tuple[ChatProvider, str], stored: Stored) -> Turn:
        provider, upstream_model = resolved
        metered = MeteredProvider(provider, self._telemetry, plan.model)
        return Turn(
            self._turn_deps, principal, plan.conversation, stored.question, stored.answer, plan.model, metered,
            upstream_model, plan.messages, plan.draft.offered, stored.hold, plan.request,
            pending_history(self._history, plan, stored, self.settings.history_messages),
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


class _Started(NamedTuple):
    plan: Plan
    resolved: tuple[ChatProvider, str]
    stored: Stored
