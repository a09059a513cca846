"""QuotaLeases: holds cut from a block reserved once; the database still never lets workers overspend."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from switchboard.core.domain.errors import QuotaExceeded
from switchboard.core.domain.quotas import Quota
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.quotas.allowances import Hold, QuotaPolicy, QuotaService
from switchboard.core.services.quotas.leases import QuotaLeases
from tests.support.fake_storage import InMemoryTx, InMemoryUnitOfWork

ALICE = Principal(1, "alice", Role.USER, frozenset({Scope.CHAT}), via="api_key", key_id="key_1")


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class YieldingUnitOfWork(InMemoryUnitOfWork):
    """Every transaction gives the event loop a turn first, as a real database does."""

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[InMemoryTx]:
        await asyncio.sleep(0)
        async with super().__call__() as tx:
            yield tx


def store(allowance: int) -> InMemoryUnitOfWork:
    uow = YieldingUnitOfWork()
    uow.store.quotas[1] = Quota(1, allowance, 0, 0, False)
    return uow


def leases(
    uow: InMemoryUnitOfWork, *, block: int = 1000, idle: float = 5.0, clock: Callable[[], float] | None = None,
) -> QuotaLeases:
    quotas = QuotaService(uow, QuotaPolicy(completion_reserve=100, min_completion=10))
    return QuotaLeases(uow, quotas, block=block, idle_seconds=idle, monotonic=clock or Ticks())


def stored(uow: InMemoryUnitOfWork) -> Quota:
    return uow.store.quotas[1]


async def spend(uow: InMemoryUnitOfWork, lease: QuotaLeases, hold: Hold, spent: int) -> None:
    """What the gateway's settlement does: give back in memory, then write the settlement."""
    reserved = lease.finish(hold, spent)
    async with uow() as tx:
        await tx.quotas.settle(hold.user_id, reserved, spent)


async def settled_tasks() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_holds_are_cut_from_one_reservation() -> None:
    uow = store(10_000)
    lease = leases(uow)
    first = await lease.hold(ALICE, prompt_estimate=20, max_completion=None)
    writes = uow.transactions
    holds = [await lease.hold(ALICE, 20, None) for _ in range(5)]
    assert first == Hold(1, 120, 20, 100, id=first.id, leased=True) and all(h == first for h in holds)
    assert uow.transactions == writes  # no database for the five after the first
    assert stored(uow).reserved == 1000 and lease.free(1) == 1000 - 6 * 120
    await lease.close()


async def test_a_lease_that_runs_short_is_topped_up_by_one_reservation() -> None:
    uow = store(10_000)
    lease = leases(uow, block=300)
    holds = [await lease.hold(ALICE, 20, None) for _ in range(3)]  # 300, then 300 more for the third
    assert [h.tokens for h in holds] == [120, 120, 120]
    assert stored(uow).reserved == 600 and lease.free(1) == 240
    await lease.close()


async def test_concurrent_calls_on_an_empty_lease_top_it_up_once() -> None:
    uow = store(10_000)
    lease = leases(uow, block=1000)
    holds = await asyncio.gather(*(lease.hold(ALICE, 20, None) for _ in range(8)))
    assert [h.tokens for h in holds] == [120] * 8
    await settled_tasks()  # one top-up for the eight, then a refill ahead of need (40 left)
    assert uow.transactions == 2 and stored(uow).reserved == 2000 and lease.free(1) == 1040
    await lease.close()


async def test_calls_waiting_for_a_top_up_are_covered_by_one_write_not_one_each() -> None:
    uow = store(10_000)
    lease = leases(uow, block=300)  # a block covers 2 of the 8 calls
    holds = await asyncio.gather(*(lease.hold(ALICE, 20, None) for _ in range(8)))
    assert [h.tokens for h in holds] == [120] * 8
    # one top-up asked for all eight (a block per top-up, one after another, meant 4 writes, and the
    # last call waited for all of them); then a refill ahead of need
    await settled_tasks()
    assert uow.transactions == 2 and stored(uow).reserved == 960 + 300 and lease.free(1) == 300
    await lease.close()


class GatedUnitOfWork(YieldingUnitOfWork):
    """Transactions wait for the test to open the gate: a write that takes its time."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[InMemoryTx]:
        await self.gate.wait()
        async with super().__call__() as tx:
            yield tx


async def test_a_call_arriving_during_a_top_up_does_not_take_what_a_waiting_call_is_owed() -> None:
    uow = GatedUnitOfWork()
    uow.store.quotas[1] = Quota(1, 10_000, 0, 0, False)
    lease = leases(uow, block=120)
    uow.gate.set()
    first = await lease.hold(ALICE, 20, None)  # the lease is empty now
    await settled_tasks()  # and its refill is written: 120 free
    taken = await lease.hold(ALICE, 20, None)
    uow.gate.clear()  # the next top-up takes its time
    served: list[str] = []

    async def call(name: str) -> None:
        hold = await lease.hold(ALICE, 20, None)
        assert hold.tokens == 120
        served.append(name)

    waiting = [asyncio.create_task(call(name)) for name in ("first waiting", "second waiting")]
    await settled_tasks()  # both wait for a top-up
    lease.finish(first, 0)  # 120 back in the lease while they wait
    late = asyncio.create_task(call("late"))
    await settled_tasks()  # the late call waits too, instead of taking the 120 they are owed
    assert served == []
    uow.gate.set()
    await asyncio.gather(*waiting, late)
    assert served == ["first waiting", "second waiting", "late"]
    lease.finish(taken, 0)
    await lease.close()


async def test_a_lease_running_low_is_refilled_before_a_call_must_wait() -> None:
    uow = store(10_000)
    lease = leases(uow, block=1000)
    for _ in range(5):  # 400 left: under half a block
        await lease.hold(ALICE, 20, None)
    await settled_tasks()
    assert stored(uow).reserved == 2000 and lease.free(1) == 1400
    writes = uow.transactions
    for _ in range(4):
        await lease.hold(ALICE, 20, None)
    assert uow.transactions == writes and lease.free(1) == 920
    await lease.close()


async def test_no_refill_ahead_of_need_near_the_end_of_the_allowance() -> None:
    uow = store(1100)
    lease = leases(uow, block=1000)
    for _ in range(5):
        await lease.hold(ALICE, 20, None)
    await settled_tasks()  # the refill asked 1000 and got the last 100
    assert stored(uow).reserved == 1100 and lease.free(1) == 500
    writes = uow.transactions
    for _ in range(2):  # 260 left: no background refill now, whose every try would write
        await lease.hold(ALICE, 20, None)
    await settled_tasks()
    assert uow.transactions == writes
    await lease.close()


async def test_a_call_wanting_more_than_a_block_gets_a_block_its_size() -> None:
    uow = store(10_000)
    lease = leases(uow, block=50)
    hold = await lease.hold(ALICE, 400, None)
    assert hold.tokens == 500 and stored(uow).reserved == 500
    await lease.close()


async def test_refused_when_the_allowance_is_used_up_and_a_short_balance_grants_what_is_left() -> None:
    uow = store(250)
    lease = leases(uow)
    first = await lease.hold(ALICE, 20, None)
    second = await lease.hold(ALICE, 20, None)
    assert (first.tokens, second.tokens) == (120, 120)
    with pytest.raises(QuotaExceeded):  # 10 left: less than prompt + min_completion
        await lease.hold(ALICE, 20, None)
    await spend(uow, lease, first, 60)  # 60 unused tokens return to the lease
    short = await lease.hold(ALICE, 20, None)
    assert (short.tokens, short.completion_budget) == (70, 50)
    await lease.close()


async def test_accounting_is_exact_after_the_leases_go_back() -> None:
    uow = store(100_000)
    lease = leases(uow, block=500)
    spent_in_all = 0
    for spent in (0, 50, 120, 300, 7):  # 300 is more than the hold: the lease pays the excess
        hold = await lease.hold(ALICE, 20, None)
        await spend(uow, lease, hold, spent)
        spent_in_all += spent
    failed = await lease.hold(ALICE, 20, None)
    await lease.release(failed)
    await lease.close()
    quota = stored(uow)
    assert quota.reserved == 0 and quota.used == spent_in_all


async def test_an_idle_lease_goes_back_to_the_database() -> None:
    uow = store(10_000)
    clock = Ticks()
    lease = leases(uow, idle=5.0, clock=clock)
    hold = await lease.hold(ALICE, 20, None)
    await spend(uow, lease, hold, 30)
    clock.now = 4.0
    assert await lease.return_idle() == 0  # not idle yet
    clock.now = 9.5
    assert await lease.return_idle() == 1000 - 30
    assert stored(uow).reserved == 0 and stored(uow).used == 30 and lease.free(1) == 0
    await lease.close()


async def test_the_background_task_returns_idle_leases() -> None:
    uow = store(10_000)
    lease = leases(uow, idle=0.02, clock=asyncio.get_running_loop().time)
    hold = await lease.hold(ALICE, 20, None)
    await spend(uow, lease, hold, 20)
    for _ in range(100):
        if stored(uow).reserved == 0:
            break
        await asyncio.sleep(0.01)
    assert stored(uow).reserved == 0 and stored(uow).used == 20
    await lease.close()


async def test_a_call_in_flight_keeps_its_hold_when_the_lease_goes_back() -> None:
    uow = store(10_000)
    clock = Ticks()
    lease = leases(uow, clock=clock)
    running = await lease.hold(ALICE, 20, None)
    clock.now = 60.0
    await lease.return_idle()
    assert stored(uow).reserved == running.tokens  # only the free part went back
    await spend(uow, lease, running, 40)
    await lease.close()
    assert stored(uow).reserved == 0 and stored(uow).used == 40


async def test_a_call_finishing_after_close_settles_its_whole_hold() -> None:
    uow = store(10_000)
    lease = leases(uow)
    running = await lease.hold(ALICE, 20, None)
    await lease.close()
    assert stored(uow).reserved == running.tokens
    await spend(uow, lease, running, 40)
    assert stored(uow).reserved == 0 and stored(uow).used == 40


async def test_concurrent_calls_never_hold_more_than_the_allowance() -> None:
    uow = store(5_000)
    lease = leases(uow, block=700)
    held: list[int] = []
    refused = 0

    async def one() -> None:
        nonlocal refused
        try:
            hold = await lease.hold(ALICE, 20, None)
        except QuotaExceeded:
            refused += 1
            return
        held.append(hold.tokens)
        assert stored(uow).used + stored(uow).reserved <= 5_000  # what the database granted
        await asyncio.sleep(random.random() / 1000)
        await spend(uow, lease, hold, hold.tokens)  # spend it all: the allowance runs out

    await asyncio.gather(*(one() for _ in range(100)))
    await lease.close()
    quota = stored(uow)
    assert refused > 0 and quota.reserved == 0 and quota.used == sum(held) <= 5_000


async def test_two_workers_sharing_one_store_never_overspend_together() -> None:
    uow = store(6_000)
    workers = [leases(uow, block=1000), leases(uow, block=1000)]
    spent_in_all = refused = 0

    async def one(worker: QuotaLeases) -> None:
        nonlocal spent_in_all, refused
        try:
            hold = await worker.hold(ALICE, 20, None)
        except QuotaExceeded:
            refused += 1
            return
        await asyncio.sleep(random.random() / 1000)
        spent = min(hold.tokens, 90)
        spent_in_all += spent
        await spend(uow, worker, hold, spent)
        assert stored(uow).used + stored(uow).reserved <= 6_000

    await asyncio.gather(*(one(workers[i % 2]) for i in range(200)))
    assert workers[0].free(1) + workers[1].free(1) + stored(uow).used <= 6_000
    for worker in workers:
        await worker.close()
    quota = stored(uow)
    assert refused > 0 and quota.reserved == 0 and quota.used == spent_in_all <= 6_000


def test_a_finished_top_up_whose_callbacks_have_not_run_yet_is_not_awaited_round_and_round() -> None:
    """A call that finds the lease's top-up finished but not yet cleared (its done-callbacks are
    only scheduled) must start a new one: awaiting the finished one returns at once, and the call
    went round its loop forever without yielding, the event loop frozen. Run in a thread of its
    own, so that a frozen loop fails this test instead of hanging the suite."""
    outcome: list[object] = []

    async def scenario() -> None:
        uow = store(10_000)
        lease = leases(uow, block=500)
        await lease.hold(ALICE, 50, 100)  # a lease exists
        entry = lease._leases[1]
        entry.free = 0

        async def finished() -> None:
            return None

        done = asyncio.get_running_loop().create_task(finished())
        await asyncio.sleep(0)
        assert done.done()
        entry.topping = done  # finished, its callbacks not run: what a caller can meet
        outcome.append(await lease.hold(ALICE, 50, 100))

    runner = threading.Thread(target=lambda: asyncio.run(scenario()), daemon=True)
    runner.start()
    runner.join(10)
    assert not runner.is_alive(), "hold() went round its loop without yielding to the event loop"
    assert len(outcome) == 1 and isinstance(outcome[0], Hold)
