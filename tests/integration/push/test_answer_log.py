"""Answers' event logs (core.ports.streams): read from a number, wait for the tail, bounded, expiring;
in memory and in Redis Streams, where a second connection (another worker) reads what one wrote."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from switchboard.adapters.push.answer_memory import InMemoryAnswerLog
from switchboard.adapters.push.answer_redis import RedisAnswerLog
from switchboard.core.domain.conversations import TokenUsage
from switchboard.core.domain.events import ChatEvent, Done, MessageSaved, ReasoningDelta, TextDelta, Usage

REDIS_URL = "redis://127.0.0.1:6379/0"
AnswerLog = InMemoryAnswerLog | RedisAnswerLog


def _make(kind: str, ttl: float = 60, max_events: int = 1000, ended_ttl: float = 30) -> AnswerLog:
    if kind == "memory":
        return InMemoryAnswerLog(ttl, max_events, ended_ttl)
    return RedisAnswerLog(REDIS_URL, ttl, max_events, ended_ttl)


def _t(n: int) -> ChatEvent:
    return TextDelta(f"t{n}")


@pytest.fixture(params=["memory", "redis"])
async def answer_log(request: pytest.FixtureRequest) -> AsyncIterator[AnswerLog]:
    made = _make(request.param)
    yield made
    await made.close()


def _key() -> str:
    return uuid.uuid4().hex


async def test_events_after_a_number_in_order_as_they_were(answer_log: AnswerLog) -> None:
    key = _key()
    done = Done(7, "ab", "hm", TokenUsage(prompt_tokens=3, completion_tokens=2), "length")
    saved = MessageSaved(7, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    await answer_log.append(key, [(1, ReasoningDelta("hm")), (2, TextDelta("a")), (3, Usage(3, 2, False, 3))])
    await answer_log.append(key, [(4, saved), (5, done)], ended=True)
    assert await answer_log.read(key, 0, 0) == [
        (1, ReasoningDelta("hm")), (2, TextDelta("a")), (3, Usage(3, 2, False, 3)), (4, saved), (5, done)]
    assert await answer_log.read(key, 4, 0) == [(5, done)]
    assert await answer_log.read(key, 5, 0) == []


async def test_an_unknown_log_is_none_not_empty(answer_log: AnswerLog) -> None:
    assert await answer_log.read(_key(), 0, 0) is None
    assert await answer_log.read(_key(), 0, 0.05) is None


async def test_a_reader_waiting_for_the_tail_gets_the_next_batch(answer_log: AnswerLog) -> None:
    key = _key()
    await answer_log.append(key, [(1, _t(1))])
    waiting = asyncio.create_task(answer_log.read(key, 1, 10))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await answer_log.append(key, [(2, _t(2)), (3, _t(3))])
    assert await asyncio.wait_for(waiting, 5) == [(2, _t(2)), (3, _t(3))]


async def test_a_quiet_log_gives_an_empty_list_after_the_wait(answer_log: AnswerLog) -> None:
    key = _key()
    await answer_log.append(key, [(1, _t(1))])
    assert await answer_log.read(key, 1, 0.05) == []


async def test_resumed_is_remembered_per_answer(answer_log: AnswerLog) -> None:
    key, other = _key(), _key()
    await answer_log.append(key, [(1, _t(1))])
    await answer_log.append(other, [(1, _t(1))])
    assert not await answer_log.was_resumed(key)
    await answer_log.mark_resumed(key)
    assert await answer_log.was_resumed(key) and not await answer_log.was_resumed(other)


@pytest.mark.parametrize(("kind", "ended"), [("memory", False), ("redis", False), ("memory", True),
                                             ("redis", True)])
async def test_a_log_expires_after_its_time_to_live(kind: str, ended: bool) -> None:
    """A running answer's log after `ttl`; an ended one's after the shorter `ended_ttl`."""
    made, key = (_make(kind, ttl=600, ended_ttl=1) if ended else _make(kind, ttl=1)), _key()
    try:
        await made.append(key, [(1, _t(1))], ended=ended)
        assert await made.read(key, 0, 0) == [(1, _t(1))]
        async with asyncio.timeout(10):  # (the test's bound; expiry comes after about a second)
            while await made.read(key, 0, 0) is not None:  # noqa: ASYNC110 - Redis expires it on its own
                await asyncio.sleep(0.1)
    finally:
        await made.close()


async def test_the_memory_log_keeps_the_newest_events_only() -> None:
    made, key = InMemoryAnswerLog(60, 100, 30), _key()
    await made.append(key, [(n, _t(n)) for n in range(1, 251)])
    kept = await made.read(key, 0, 0)
    assert kept is not None and [n for n, _ in kept] == list(range(151, 251))


async def test_the_redis_log_is_bounded_near_max_events() -> None:
    made, key = RedisAnswerLog(REDIS_URL, 60, 100, 30), _key()
    try:
        await made.append(key, [(n, _t(n)) for n in range(1, 2001)])
        kept = await made.read(key, 0, 0)
        # MAXLEN ~ trims whole macro nodes: about max_events are kept, the newest, in order
        assert kept is not None and 100 <= len(kept) < 1000 and kept[-1][0] == 2000
        assert [n for n, _ in kept] == list(range(kept[0][0], 2001))
    finally:
        await made.close()


async def test_another_redis_connection_reads_what_one_wrote() -> None:
    writer, reader, key = RedisAnswerLog(REDIS_URL, 60, 1000, 30), RedisAnswerLog(REDIS_URL, 60, 1000, 30), _key()
    try:
        await writer.append(key, [(1, TextDelta("from worker 1"))])
        assert await reader.read(key, 0, 0) == [(1, TextDelta("from worker 1"))]
        await reader.mark_resumed(key)
        assert await writer.was_resumed(key)
    finally:
        await writer.close()
        await reader.close()


async def test_the_memory_log_forgets_expired_logs_when_a_new_one_starts() -> None:
    made = InMemoryAnswerLog(600, 100, ended_ttl_seconds=0.05)
    first, running = _key(), _key()
    await made.append(running, [(1, _t(1))])  # older, still running: it must not hold the ended one back
    await made.append(first, [(1, _t(1))], ended=True)
    await asyncio.sleep(0.1)
    await made.append(_key(), [(1, _t(1))])
    assert first not in made._logs and running in made._logs


async def test_the_memory_log_keeps_runs_of_deltas_and_reads_from_inside_one() -> None:
    made, key = InMemoryAnswerLog(60, 1000, 30), _key()
    usage = Usage(3, 2, False, 3)
    mixed = [(1, ReasoningDelta("r1")), (2, ReasoningDelta("r2")), (3, _t(3)), (4, usage), (5, _t(5)), (6, _t(6))]
    await made.append(key, mixed)
    await made.append(key, [(n, _t(n)) for n in range(7, 11)])
    assert len(made._logs[key].runs) == 5  # reasoning, text, usage, text, the second batch's text
    assert await made.read(key, 0, 0) == [*mixed, *((n, _t(n)) for n in range(7, 11))]
    assert await made.read(key, 1, 0) == [*mixed[1:], *((n, _t(n)) for n in range(7, 11))]
    assert await made.read(key, 8, 0) == [(9, _t(9)), (10, _t(10))]
    assert await made.read(key, 10, 0) == []


async def test_the_memory_log_trims_whole_runs_then_the_front_of_the_oldest() -> None:
    made, key = InMemoryAnswerLog(60, 100, 30), _key()
    for start in range(1, 251, 50):
        await made.append(key, [(n, _t(n)) for n in range(start, start + 50)])
    await made.append(key, [(251, MessageSaved(7, datetime(2026, 1, 2, tzinfo=UTC)))], ended=True)
    kept = await made.read(key, 0, 0)
    assert kept is not None and [n for n, _ in kept] == list(range(152, 252))
    assert kept[0] == (152, _t(152)) and made._logs[key].events == 100
