"""The stored chat turn's rules (design.md, "nothing lost"), on both databases, through the steps
the turn really runs (UnitOfWork.run / run_read, group-committed on SQLite):

- the user's message is durable before the provider is called;
- the answer's final state, its usage and the quota settlement are one transaction;
- a crash loses at most the text streamed since the last flush;
- quotas never overspend, with many turns at once.

A crash is simulated by a unit of work that stops writing at a chosen moment (what kill -9 does
to a worker), then another worker's crash recovery sweeps up after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.adapters.storage.tables import usage_ledger
from switchboard.core.domain.chat import ChatRequest, ProviderCall
from switchboard.core.domain.conversations import Message, MessageStatus, text_parts
from switchboard.core.domain.events import Done, Failed, Finish, TextDelta, Usage
from switchboard.core.domain.quotas import Quota
from switchboard.core.domain.users import Principal, Role
from switchboard.core.ports.storage import Tx
from switchboard.core.services.accounts.auth import principal_for
from switchboard.core.services.chat.engine import ChatEngine, EngineSettings
from switchboard.core.services.conversations.history import ConversationService, NewConversation
from switchboard.core.services.media.files import FileService
from switchboard.core.services.quotas.allowances import QuotaPolicy, QuotaService
from switchboard.core.services.quotas.recovery import CrashRecovery, WorkerIdentity, WorkerPolicy
from switchboard.core.services.tools.runner import ToolPolicy, ToolRunner
from tests.support.fakes import FixedClock, InMemoryBlobStore, InMemoryCatalog, Pause, ScriptedProvider, WordCounter

T = TypeVar("T")
# "hello there" is a 3-token prompt (WordCounter); each turn holds 3 + 100 and spends exactly that
POLICY = QuotaPolicy(completion_reserve=100, min_completion=10)
TURN_TOKENS = 103
DEAD = "wrk_dead"


class Crashed(Exception):
    """The worker died here."""


class CrashingUnitOfWork:
    """The real unit of work until `dead`: after that nothing reaches the database. With
    `die_in_next_step`, the next step runs whole and then dies before its commit."""

    def __init__(self, real: SqlUnitOfWork) -> None:
        self.real = real
        self.dead = False
        self.die_in_next_step = False

    def _alive(self) -> None:
        if self.dead:
            raise Crashed()

    def __call__(self) -> AbstractAsyncContextManager[Tx]:
        self._alive()
        return self.real()

    def read(self) -> AbstractAsyncContextManager[Tx]:
        self._alive()
        return self.real.read()

    async def run(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        self._alive()
        if not self.die_in_next_step:
            return await self.real.run(step)
        self.dead = True

        async def dies_before_commit(tx: Tx) -> T:
            await step(tx)
            raise Crashed()

        return await self.real.run(dies_before_commit)

    async def run_read(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        self._alive()
        return await self.real.run_read(step)

    async def ping(self) -> bool:
        return await self.real.ping()


def engine_on(uow: Any, provider: ScriptedProvider, clock: FixedClock, flush_seconds: float = 60.0) -> ChatEngine:
    files = FileService(uow, InMemoryBlobStore(), clock, 1_000_000)
    return ChatEngine(uow, InMemoryCatalog({"m": provider}), QuotaService(uow, POLICY, DEAD),
                      ToolRunner(None, ToolPolicy()), files, WordCounter(), clock,
                      EngineSettings(flush_seconds=flush_seconds))


async def enrol(uow: SqlUnitOfWork, clock: FixedClock, allowance: int) -> Principal:
    async with uow() as tx:
        user = await tx.users.add("alice", None, None, Role.USER)
        await tx.quotas.set_allowance(user.id, allowance, unlimited=False)
        await tx.workers.beat(DEAD, "host", 1, clock.now())
    return principal_for(user)


async def new_conversation(uow: SqlUnitOfWork, clock: FixedClock, who: Principal) -> str:
    return (await ConversationService(uow, clock).create(who, NewConversation())).id


async def alice_with_a_conversation(uow: SqlUnitOfWork) -> tuple[FixedClock, Principal, str]:
    """Alice, with tokens for ten turns, and a new conversation of hers, on a fixed clock."""
    clock = FixedClock()
    alice = await enrol(uow, clock, allowance=10 * TURN_TOKENS)
    return clock, alice, await new_conversation(uow, clock, alice)


def question(conversation_id: str) -> ChatRequest:
    return ChatRequest(conversation_id=conversation_id, parts=text_parts("hello there"))


async def state(uow: SqlUnitOfWork, user_id: int, conversation_id: str) -> tuple[Quota, list[Message], list[Any]]:
    async with uow.read() as tx:
        quota = await tx.quotas.get(user_id)
        messages = await tx.messages.list(conversation_id, 100, include_deleted=True)
        ledger = (await tx.quotas._connection.execute(select(usage_ledger))).mappings().all()  # type: ignore[attr-defined]
    return quota, messages, list(ledger)


async def recover_as_another_worker(uow: SqlUnitOfWork, clock: FixedClock) -> int:
    clock.advance(120)  # the dead worker's last beat is now two minutes old
    recovery = CrashRecovery(uow, WordCounter(), clock, WorkerIdentity("wrk_live"),
                             WorkerPolicy(heartbeat_seconds=1, dead_after_seconds=60))
    await recovery.beat()
    return (await recovery.sweep()).tokens_charged


async def test_fifty_turns_at_once_against_an_allowance_for_twenty(uow: SqlUnitOfWork) -> None:
    clock = FixedClock()
    alice = await enrol(uow, clock, allowance=20 * TURN_TOKENS)
    answer: list[Any] = [Pause(0.01), TextDelta("fine thanks"), Usage(3, 100), Finish("stop")]
    engine = engine_on(uow, ScriptedProvider(*[answer] * 50), clock)
    conversations = [await new_conversation(uow, clock, alice) for _ in range(50)]

    async def turn(conversation_id: str) -> list[Any]:
        return [event async for event in engine.run(question(conversation_id), alice)]

    # the refused turns fail inside steps committed beside the others' (a savepoint each on SQLite)
    outcomes = await asyncio.gather(*(turn(c) for c in conversations))

    answered = [c for c, events in zip(conversations, outcomes, strict=True) if isinstance(events[-1], Done)]
    refused = [c for c, events in zip(conversations, outcomes, strict=True)
               if isinstance(events[-1], Failed) and events[-1].code == "quota_exceeded"]
    assert (len(answered), len(refused)) == (20, 30)  # every token of the allowance, never more
    ledger: list[Any] = []
    for conversation_id in answered:
        quota, messages, ledger = await state(uow, alice.user_id, conversation_id)
        user, reply = messages
        assert (user.role, user.text, user.status) == ("user", "hello there", MessageStatus.COMPLETED)
        assert (reply.role, reply.text, reply.status) == ("assistant", "fine thanks", MessageStatus.COMPLETED)
        assert reply.usage is not None and reply.usage.total_tokens == TURN_TOKENS
        assert [row["tokens_prompt"] + row["tokens_completion"] for row in ledger
                if row["message_id"] == reply.id] == [TURN_TOKENS]
    for conversation_id in refused:
        assert (await state(uow, alice.user_id, conversation_id))[1] == []  # nothing half-stored
    assert (quota.used, quota.reserved, len(ledger)) == (20 * TURN_TOKENS, 0, 20)


async def test_a_crash_before_the_provider_call_leaves_the_question_stored_and_recovery_frees_the_hold(
    uow: SqlUnitOfWork, database_url: str
) -> None:
    clock, alice, conversation_id = await alice_with_a_conversation(uow)
    provider = ScriptedProvider([TextDelta("never sent")])

    await engine_on(uow, provider, clock).start(question(conversation_id), alice)
    # the worker dies here, after start returned and before it called the provider; another
    # process (a connection of its own) sees the question and the held tokens
    elsewhere = SqlUnitOfWork(database_url)
    try:
        quota, messages, _ = await state(elsewhere, alice.user_id, conversation_id)
    finally:
        await elsewhere.close()
    assert [(m.role, m.status) for m in messages] == [("user", MessageStatus.COMPLETED),
                                                      ("assistant", MessageStatus.STREAMING)]
    assert quota.reserved == TURN_TOKENS and provider.calls == []

    charged = await recover_as_another_worker(uow, clock)

    quota, messages, ledger = await state(uow, alice.user_id, conversation_id)
    assert messages[0].text == "hello there" and messages[1].status is MessageStatus.INTERRUPTED
    assert (quota.reserved, quota.used, sum(r["tokens_prompt"] + r["tokens_completion"] for r in ledger)) == (
        0, charged, charged)


async def test_a_cancelled_turn_had_its_question_stored_before_the_provider_and_gives_its_hold_back(
    uow: SqlUnitOfWork,
) -> None:
    clock, alice, conversation_id = await alice_with_a_conversation(uow)
    seen: list[list[Message]] = []
    called = asyncio.Event()

    async def provider_called(_call: ProviderCall) -> None:
        seen.append((await state(uow, alice.user_id, conversation_id))[1])
        called.set()

    engine = engine_on(uow, ScriptedProvider([provider_called, Pause(30)]), clock)
    task = asyncio.create_task(_drain(engine.run(question(conversation_id), alice)))
    await called.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert [(m.role, m.status) for m in seen[0]] == [("user", MessageStatus.COMPLETED),
                                                     ("assistant", MessageStatus.STREAMING)]
    quota, messages, ledger = await state(uow, alice.user_id, conversation_id)
    assert messages[1].status is MessageStatus.INTERRUPTED
    assert (quota.reserved, quota.used, len(ledger)) == (0, 3, 1)  # the prompt, by estimate


async def test_a_crash_between_flushes_loses_only_the_text_since_the_last_flush(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation_id = await alice_with_a_conversation(uow)
    crashing = CrashingUnitOfWork(uow)

    async def flushed_then_dies(_call: ProviderCall) -> None:
        for _ in range(500):  # the flusher writes every 10 ms
            messages = (await state(uow, alice.user_id, conversation_id))[1]
            if messages[1].text == "first words":
                break
            await asyncio.sleep(0.01)
        crashing.dead = True

    provider = ScriptedProvider([TextDelta("first words"), flushed_then_dies, TextDelta(" lost"), Pause(0.05)])
    engine = engine_on(crashing, provider, clock, flush_seconds=0.01)
    turn = await engine.start(question(conversation_id), alice)
    with pytest.raises(Crashed):
        await _drain(turn.events())

    before = (await state(uow, alice.user_id, conversation_id))[1][1]
    assert (before.status, before.text) == (MessageStatus.STREAMING, "first words")
    charged = await recover_as_another_worker(uow, clock)
    quota, messages, _ = await state(uow, alice.user_id, conversation_id)
    assert (messages[1].status, messages[1].text) == (MessageStatus.INTERRUPTED, "first words")
    assert (quota.reserved, quota.used) == (0, charged)


async def test_a_crash_before_the_final_commit_writes_no_half_of_it(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation_id = await alice_with_a_conversation(uow)
    crashing = CrashingUnitOfWork(uow)

    async def die_in_the_final_step(_call: ProviderCall) -> None:
        crashing.die_in_next_step = True

    provider = ScriptedProvider([TextDelta("whole answer"), Usage(3, 2), die_in_the_final_step, Finish("stop")])
    turn = await engine_on(crashing, provider, clock).start(question(conversation_id), alice)
    with pytest.raises(Crashed):
        await _drain(turn.events())

    quota, messages, ledger = await state(uow, alice.user_id, conversation_id)
    if uow.dialect == "postgresql":
        # there the final step is one statement, sent alone: a transaction of its own, committed
        # as it ran (pg_steps: `lone`), so a death after it leaves all of it, never a part
        assert (messages[1].status, messages[1].text) == (MessageStatus.COMPLETED, "whole answer")
        assert (quota.reserved, quota.used, len(ledger)) == (0, 5, 1)
        assert await recover_as_another_worker(uow, clock) == 0
        return
    # the final step updated the answer and settled the quota, then died: none of it stayed
    assert (messages[1].status, messages[1].text, messages[1].usage and messages[1].usage.completion_tokens) == (
        MessageStatus.STREAMING, "", 0)
    assert (quota.reserved, quota.used, ledger) == (TURN_TOKENS, 0, [])
    charged = await recover_as_another_worker(uow, clock)
    quota, messages, ledger = await state(uow, alice.user_id, conversation_id)
    assert messages[1].status is MessageStatus.INTERRUPTED and (quota.reserved, quota.used) == (0, charged)
    assert len(ledger) == 1


async def _drain(events: AsyncIterator[Any]) -> None:
    async for _event in events:
        pass
