"""Crash recovery on both databases: a dead worker's holds are given back and its streaming answer
is interrupted and charged by estimate; a live worker's holds and answers are not touched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.adapters.storage.tables import usage_ledger
from switchboard.adapters.tokens.estimate import HeuristicTokenCounter
from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    TokenUsage,
    text_parts,
)
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.users import ApiKey, Principal, Role, Scope
from switchboard.core.services.quotas.allowances import Hold, QuotaPolicy, QuotaService
from switchboard.core.services.quotas.recovery import STOPPED, CrashRecovery, WorkerIdentity, WorkerPolicy
from tests.support.fakes import T0, FixedClock

POLICY = QuotaPolicy(completion_reserve=400, min_completion=10)
PARTIAL = "the first words of an answer that never ended"


async def turn(uow: SqlUnitOfWork, quotas: QuotaService, who: Principal) -> tuple[Hold, int]:
    """What ChatEngine.start stores: a hold, and a streaming answer naming the worker and its hold."""
    async with uow() as tx:
        hold = await quotas.reserve_in(tx, who, 20, None)
        conversation = Conversation(new_id("conv"), who.user_id, "t", ConversationSettings(), T0, T0)
        await tx.conversations.add(conversation)
        answer = await tx.messages.add(Message(
            0, conversation.id, "assistant", text_parts(PARTIAL), MessageStatus.STREAMING, T0, T0, model="m",
            usage=TokenUsage(prompt_tokens=20, estimated=True), worker_id=quotas.worker_id))
        await tx.holds.attach(hold.id, answer.id)
    return hold, answer.id


async def test_a_dead_workers_holds_go_back_and_a_live_ones_stay(uow: SqlUnitOfWork) -> None:
    clock = FixedClock()
    async with uow() as tx:
        user = await tx.users.add("alice", None, None, Role.USER)
        await tx.quotas.set_allowance(user.id, 10_000, unlimited=False)
        await tx.keys.add(ApiKey("key_1", user.id, "k", "sb-1", "hash-1", frozenset({Scope.CHAT}), T0,
                                 token_quota=5_000))
        await tx.workers.beat("wrk_dead", "host-a", 1, clock.now())
    alice = Principal(user.id, "alice", Role.USER, frozenset({Scope.CHAT}), via="api_key", key_id="key_1",
                      key_tokens_left=5_000)
    dead, live = QuotaService(uow, POLICY, "wrk_dead"), QuotaService(uow, POLICY, "wrk_live")
    dead_hold, dead_answer = await turn(uow, dead, alice)
    await dead.reserve(alice, 50, 50)  # a gateway call in flight
    clock.advance(120)  # the dead worker's last beat is now two minutes old
    recovery = CrashRecovery(uow, HeuristicTokenCounter(), clock, WorkerIdentity("wrk_live"),
                             WorkerPolicy(heartbeat_seconds=1, dead_after_seconds=60))
    await recovery.beat()
    live_hold, live_answer = await turn(uow, live, alice)
    live_call = await live.reserve(alice, 50, 50)

    recovered = await recovery.sweep()

    charge = 20 + HeuristicTokenCounter().count_text(PARTIAL)
    assert recovered.workers == ["wrk_dead"] and recovered.messages == 1
    assert (recovered.tokens_released, recovered.tokens_charged) == (dead_hold.tokens + 100, charge)
    async with uow() as tx:
        quota, key = await tx.quotas.get(user.id), await tx.keys.get("key_1")
        stopped, streaming = await tx.messages.get(dead_answer), await tx.messages.get(live_answer)
        holds = await tx.holds.of_workers(["wrk_dead", "wrk_live"])
        ledger = (await tx.quotas._connection.execute(select(usage_ledger))).mappings().all()  # type: ignore[attr-defined]
        left = await tx.workers.silent_since(clock.now() + timedelta(seconds=1))  # every worker
    assert key is not None and stopped is not None and streaming is not None
    assert quota.reserved == key.tokens_reserved == live_hold.tokens + live_call.tokens  # the live one's only
    assert quota.used == key.tokens_used == charge
    assert {h.worker_id for h in holds} == {"wrk_live"}
    assert (stopped.status, stopped.text, stopped.error) == (MessageStatus.INTERRUPTED, PARTIAL, STOPPED)
    assert stopped.usage == TokenUsage(prompt_tokens=20, completion_tokens=charge - 20, estimated=True)
    assert streaming.status is MessageStatus.STREAMING  # the live worker's answer goes on
    [entry] = ledger
    assert (entry["message_id"], entry["key_id"], entry["estimated"]) == (dead_answer, "key_1", True)
    assert left == ["wrk_live"]  # the dead worker is gone from the table

    again = await recovery.sweep()  # nothing twice
    assert again.workers == [] and again.messages == 0

    async with uow() as tx:  # the live worker's turn ends normally afterwards
        await QuotaService.free_in(tx, live_hold, live_hold.tokens, 0)
        await QuotaService.free_in(tx, live_call, live_call.tokens, 0)
        quota, key = await tx.quotas.get(user.id), await tx.keys.get("key_1")
    assert key is not None and (quota.reserved, key.tokens_reserved) == (0, 0)
