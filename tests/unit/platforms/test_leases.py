"""Platform leases in a real Redis: one holder at a time, renewed and released only by their own
holder, taken over by another once the holder stops renewing; and leadership built on them runs a
platform's connection only while the lease is held."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest_asyncio

from switchboard.adapters.push.lease import InMemoryLeases, RedisLeases, new_holder
from switchboard.platforms._shared.leadership import Leadership
from tests.support.fakes import eventually
from tests.support.redis_server import redis_url

__all__ = ["redis_url"]  # the fixture


@pytest_asyncio.fixture
async def two_workers(redis_url: str) -> AsyncIterator[tuple[RedisLeases, RedisLeases]]:
    one, two = RedisLeases(redis_url, new_holder("wrk_one")), RedisLeases(redis_url, new_holder("wrk_two"))
    yield one, two
    await one.close()
    await two.close()


def fresh_name() -> str:
    return f"test:{uuid.uuid4().hex}"  # tests run in parallel on one Redis


async def test_a_free_lease_is_taken_and_taking_it_again_keeps_it(two_workers: tuple[RedisLeases, RedisLeases]) -> None:
    one, _ = two_workers
    name = fresh_name()
    assert await one.take(name, 30)
    assert await one.take(name, 30)  # ours already: renewed, not refused
    assert await one.holder_of(name) == one.holder
    assert one.holder.startswith("wrk_one:")


async def test_a_held_lease_cannot_be_taken_renewed_or_released_by_another(
        two_workers: tuple[RedisLeases, RedisLeases]) -> None:
    one, two = two_workers
    name = fresh_name()
    assert await one.take(name, 30)
    assert not await two.take(name, 30)
    assert not await two.renew(name, 30)
    await two.release(name)
    assert await one.holder_of(name) == one.holder
    assert await one.renew(name, 30)


async def test_a_released_lease_is_free_for_another_at_once(two_workers: tuple[RedisLeases, RedisLeases]) -> None:
    one, two = two_workers
    name = fresh_name()
    assert await one.take(name, 30)
    await one.release(name)
    assert await one.holder_of(name) is None
    assert await two.take(name, 30)


async def test_an_expired_lease_is_taken_over_and_the_old_holder_can_no_longer_touch_it(
        two_workers: tuple[RedisLeases, RedisLeases]) -> None:
    one, two = two_workers
    name = fresh_name()
    assert await one.take(name, 0.2)  # and then never renewed: its worker died

    taken: list[bool] = []

    async def try_take() -> None:
        taken.append(await two.take(name, 30))
    while not taken or not taken[-1]:
        await try_take()
        await asyncio.sleep(0.02)
    assert not await one.renew(name, 30)  # the old holder, back from a pause, learns it lost it
    await one.release(name)
    assert await two.holder_of(name) == two.holder


async def test_the_standby_worker_runs_the_connection_once_the_dead_leaders_lease_expires(
        two_workers: tuple[RedisLeases, RedisLeases]) -> None:
    dead, standby = two_workers
    name = fresh_name()
    assert await dead.take(name, 0.3)
    running = asyncio.Event()
    states: list[str] = []

    async def connection() -> None:
        running.set()
        await asyncio.Event().wait()

    leading = asyncio.create_task(Leadership(standby, 0.3).lead(name, connection, lambda: states.append("standby")))
    try:
        await asyncio.wait_for(running.wait(), 10)
        assert states  # it stood by while the dead worker's lease lived
        assert await standby.holder_of(name) == standby.holder
    finally:
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
    assert await standby.holder_of(name) is None  # a stopping worker hands its lease over


async def test_a_leader_whose_lease_is_taken_stops_its_connection_at_once() -> None:
    table: dict[str, tuple[str, float]] = {}
    leases = InMemoryLeases("wrk_a:1", table)
    stopped = asyncio.Event()
    runs = 0

    async def connection() -> None:
        nonlocal runs
        runs += 1
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    leading = asyncio.create_task(Leadership(leases, 0.3).lead("platform:tg", connection, lambda: None))
    try:
        await eventually(lambda: runs == 1)
        table["platform:tg"] = ("wrk_b:1", float("inf"))  # another worker holds it now (ours had lapsed)
        await asyncio.wait_for(stopped.wait(), 10)
        assert runs == 1
    finally:
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
    assert table["platform:tg"][0] == "wrk_b:1"  # cancelling never releases another's lease


async def test_of_two_leaders_exactly_one_runs_the_connection() -> None:
    table: dict[str, tuple[str, float]] = {}
    running: list[str] = []
    standing_by: list[str] = []

    def connection(worker: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def run() -> None:
            running.append(worker)
            await asyncio.Event().wait()
        return run

    tasks = [asyncio.create_task(Leadership(InMemoryLeases(f"{w}:1", table), 0.3).lead(
        "p", connection(w), lambda w=w: standing_by.append(w))) for w in ("wrk_a", "wrk_b")]
    try:
        await eventually(lambda: len(standing_by) >= 3)  # the other tried again and again, renewals between
        assert len(running) == 1 and running[0] not in standing_by
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class HungRedis(InMemoryLeases):
    """Takes the lease, then every renewal hangs (Redis unreachable but the socket not refused)."""

    async def renew(self, name: str, ttl_seconds: float) -> bool:
        await asyncio.Event().wait()
        return True


async def test_a_leader_whose_renewals_hang_stops_its_connection() -> None:
    """Nobody else took the lease, but this worker cannot know that: it stops rather than risk
    running next to the worker that will take the lease once it lapses."""
    table: dict[str, tuple[str, float]] = {}
    stopped = asyncio.Event()

    async def connection() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    leading = asyncio.create_task(Leadership(HungRedis("wrk_a:1", table), 0.6).lead("p", connection, lambda: None))
    try:
        await asyncio.wait_for(stopped.wait(), 10)
        assert table["p"][0] == "wrk_a:1"  # still ours on record: it stopped for want of a renewal
    finally:
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
