"""A small world of real services over in-memory fakes, built per test (no monkeypatching)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Message, text_parts
from switchboard.core.domain.events import ChatEvent
from switchboard.core.domain.quotas import Quota
from switchboard.core.domain.users import Principal, Role, User, scopes_for_role
from switchboard.core.ports.tools import ToolHost
from switchboard.core.services.accounts.auth import principal_for
from switchboard.core.services.chat.engine import ChatEngine, EngineSettings
from switchboard.core.services.conversations.history import ConversationService, NewConversation
from switchboard.core.services.media.files import FileService
from switchboard.core.services.quotas.allowances import QuotaPolicy, QuotaService
from switchboard.core.services.tools.runner import ToolPolicy, ToolRunner
from tests.support.fake_storage import InMemoryUnitOfWork
from tests.support.fakes import T0, FixedClock, InMemoryBlobStore, InMemoryCatalog, ScriptedProvider, WordCounter


@dataclass
class World:
    uow: InMemoryUnitOfWork
    clock: FixedClock
    provider: ScriptedProvider
    engine: ChatEngine
    quotas: QuotaService
    conversations: ConversationService
    alice: Principal
    bob: Principal

    async def conversation(self, owner: Principal | None = None, **settings: object) -> str:
        new = NewConversation()
        new.settings = new.settings.model_copy(update=settings)
        return (await self.conversations.create(owner or self.alice, new)).id

    async def ask(self, conversation_id: str, text: str = "hello there", who: Principal | None = None,
                  **request: object) -> list[ChatEvent]:
        chat = ChatRequest(conversation_id=conversation_id, parts=text_parts(text), **request)  # type: ignore[arg-type]
        return [event async for event in self.engine.run(chat, who or self.alice)]

    def messages(self, conversation_id: str) -> list[Message]:
        return sorted((m for m in self.uow.store.messages.values() if m.conversation_id == conversation_id),
                      key=lambda m: m.id)


def add_user(uow: InMemoryUnitOfWork, name: str, *, allowance: int = 0, role: Role = Role.USER) -> Principal:
    user_id = next(uow.store.ids)
    uow.store.users[user_id] = User(user_id, name, None, role, True, T0, "plain$password1")
    uow.store.quotas[user_id] = Quota(user_id, allowance, 0, 0, unlimited=allowance == 0)
    principal = principal_for(uow.store.users[user_id])
    assert principal.scopes == scopes_for_role(role)
    return principal


def build_world(
    *rounds: list[object], tools: ToolHost | None = None, flush_seconds: float = 60.0, max_rounds: int = 8,
    allowance: int = 0, policy: QuotaPolicy | None = None, models: tuple[str, ...] = ("m",),
) -> World:
    uow, clock = InMemoryUnitOfWork(), FixedClock()
    provider = ScriptedProvider(*rounds)  # type: ignore[arg-type]
    catalog = InMemoryCatalog(dict.fromkeys(models, provider))
    quotas = QuotaService(uow, policy or QuotaPolicy(completion_reserve=1000, min_completion=10))
    runner = ToolRunner(tools, ToolPolicy(max_rounds=max_rounds))
    files = FileService(uow, InMemoryBlobStore(), clock, 1_000_000)
    engine = ChatEngine(uow, catalog, quotas, runner, files, WordCounter(), clock,
                        EngineSettings(flush_seconds=flush_seconds, max_message_chars=1000))
    alice = add_user(uow, "alice", allowance=allowance)
    bob = add_user(uow, "bob")
    return World(uow, clock, provider, engine, quotas, ConversationService(uow, clock), alice, bob)


@pytest.fixture
def world() -> World:
    return build_world()
