"""Answers' event logs (core.ports.streams): read from a number, wait for the tail, bounded, expiring;
in memory and in Redis Streams, where a second connection (another worker) reads what one wrote."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from switchboard.adapters.push.answer_memory import InMemoryAnswerLog
from switchboard.adapters.push.answer_redis import RedisAnswerLog

REDIS_URL = "redis://127.0.0.1:6379/0"
AnswerLog = InMemoryAnswerLog | RedisAnswerLog


def _make(kind: str, ttl: float = 60, max_events: int = 1000) -> AnswerLog:
    return InMemoryAnswerLog(ttl, max_events) if kind == "memory" else RedisAnswerLog(REDIS_URL, ttl, max_events)


@pytest.fixture(params=["memory", "redis"])
async def answer_log(request: pytest.FixtureRequest) -> AsyncIterator[AnswerLog]:
    made = _make(request.param)
    yield made
    await made.close()


def _key() -> str:
    return uuid.uuid4().hex


async def test_events_after_a_number_in_order(answer_log: AnswerLog) -> None:
    key = _key()
    await answer_log.append(key, [(1, {"type": "TextDelta", "text": "a"}), (2, {"type": "TextDelta", "text": "b"})])
    await answer_log.append(key, [(3, {"type": "Done", "n": 3})])
    assert await answer_log.read(key, 0, 0) == [
        (1, {"type": "TextDelta", "text": "a"}), (2, {"type": "TextDelta", "text": "b"}), (3, {"type": "Done", "n": 3})]
    assert await answer_log.read(key, 2, 0) == [(3, {"type": "Done", "n": 3})]
    assert await answer_log.read(key, 3, 0) == []


async def test_an_unknown_log_is_none_not_empty(answer_log: AnswerLog) -> None:
    assert await answer_log.read(_key(), 0, 0) is None
    assert await answer_log.read(_key(), 0, 0.05) is None


async def test_a_reader_waiting_for_the_tail_gets_the_next_batch(answer_log: AnswerLog) -> None:
    key = _key()
    await answer_log.append(key, [(1, {"x": 1})])
    waiting = asyncio.create_task(answer_log.read(key, 1, 10))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await answer_log.append(key, [(2, {"x": 2}), (3, {"x": 3})])
    assert await asyncio.wait_for(waiting, 5) == [(2, {"x": 2}), (3, {"x": 3})]


async def test_a_quiet_log_gives_an_empty_list_after_the_wait(answer_log: AnswerLog) -> None:
    key = _key()
    await answer_log.append(key, [(1, {"x": 1})])
    assert await answer_log.read(key, 1, 0.05) == []


async def test_resumed_is_remembered_per_answer(answer_log: AnswerLog) -> None:
    key, other = _key(), _key()
    await answer_log.append(key, [(1, {"x": 1})])
    await answer_log.append(other, [(1, {"x": 1})])
    assert not await answer_log.was_resumed(key)
    await answer_log.mark_resumed(key)
    assert await answer_log.was_resumed(key) and not await answer_log.was_resumed(other)


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_log_expires_after_its_time_to_live(kind: str) -> None:
    made, key = _make(kind, ttl=1), _key()
    try:
        await made.append(key, [(1, {"x": 1})])
        assert await made.read(key, 0, 0) == [(1, {"x": 1})]
        async with asyncio.timeout(10):
            while await made.read(key, 0, 0) is not None:  # noqa: ASYNC110 - Redis expires it on its own
                await asyncio.sleep(0.1)
    finally:
        await made.close()


async def test_the_memory_log_keeps_the_newest_events_only() -> None:
    made, key = InMemoryAnswerLog(60, max_events=100), _key()
    await made.append(key, [(n, {"n": n}) for n in range(1, 251)])
    kept = await made.read(key, 0, 0)
    assert kept is not None and [n for n, _ in kept] == list(range(151, 251))


async def test_the_redis_log_is_bounded_near_max_events() -> None:
    made, key = RedisAnswerLog(REDIS_URL, 60, max_events=100), _key()
    try:
        await made.append(key, [(n, {"n": n}) for n in range(1, 2001)])
        kept = await made.read(key, 0, 0)
        # MAXLEN ~ trims whole macro nodes: about max_events are kept, the newest, in order
        assert kept is not None and 100 <= len(kept) < 1000 and kept[-1][0] == 2000
        assert [n for n, _ in kept] == list(range(kept[0][0], 2001))
    finally:
        await made.close()


async def test_another_redis_connection_reads_what_one_wrote() -> None:
    writer, reader, key = RedisAnswerLog(REDIS_URL, 60, 1000), RedisAnswerLog(REDIS_URL, 60, 1000), _key()
    try:
        await writer.append(key, [(1, {"from": "worker-1"})])
        assert await reader.read(key, 0, 0) == [(1, {"from": "worker-1"})]
        await reader.mark_resumed(key)
        assert await writer.was_resumed(key)
    finally:
        await writer.close()
        await reader.close()
