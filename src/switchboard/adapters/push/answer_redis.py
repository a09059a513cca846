"""Answers' event logs in Redis Streams, shared by every worker (core.ports.streams).

One stream per answer, its entries given the ids `0-1`, `0-2` … (the writer's numbers), so "the
events after n" is `XREAD … 0-n` and a reader waiting for the tail blocks in Redis (XREAD BLOCK).
XADD's MAXLEN bounds a long answer; EXPIRE after each batch lets a finished or abandoned log go.
Events are stored as JSON (core.domain.event_codec)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from redis.asyncio import Redis

from switchboard.core.domain.event_codec import decode_event, encode_event
from switchboard.core.ports.streams import LogEntry

PREFIX = "switchboard:answer:"
RESUMED_SUFFIX = ":resumed"
SOCKET_TIMEOUT_SECONDS = 60.0


class RedisAnswerLog:
    def __init__(self, url: str, ttl_seconds: float, max_events: int, ended_ttl_seconds: float) -> None:
        # a reader blocks in XREAD for a few seconds: more than redis-py's default 5 s socket timeout
        self._redis: Redis = Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_SECONDS)
        self._ttl = max(1, round(ttl_seconds))
        self._ended_ttl = max(1, round(min(ttl_seconds, ended_ttl_seconds)))
        self._max_events = max_events

    async def append(self, key: str, entries: Sequence[LogEntry], *, ended: bool = False) -> None:
        if not entries:
            return
        stream = PREFIX + key
        async with self._redis.pipeline(transaction=True) as pipe:  # a waiting reader sees the batch whole
            for number, event in entries:
                pipe.xadd(stream, {"e": orjson.dumps(encode_event(event))}, id=f"0-{number}",
                          maxlen=self._max_events, approximate=True)
            pipe.expire(stream, self._ended_ttl if ended else self._ttl)
            await pipe.execute()

    async def read(self, key: str, after: int, wait_seconds: float) -> list[LogEntry] | None:
        stream = PREFIX + key
        found = await self._redis.xread({stream: f"0-{after}"})
        if not found:
            if not await self._redis.exists(stream):
                return None
            if wait_seconds <= 0:
                return []
            waited = min(wait_seconds, SOCKET_TIMEOUT_SECONDS / 2)  # never up to the socket's own timeout
            found = await self._redis.xread({stream: f"0-{after}"}, block=max(1, round(waited * 1000)))
            if not found:
                return []
        return [(_number(entry_id), decode_event(orjson.loads(fields[b"e"]))) for entry_id, fields in found[0][1]]

    async def mark_resumed(self, key: str) -> None:
        await self._redis.set(PREFIX + key + RESUMED_SUFFIX, b"1", ex=self._ttl)

    async def was_resumed(self, key: str) -> bool:
        return bool(await self._redis.exists(PREFIX + key + RESUMED_SUFFIX))

    async def close(self) -> None:
        await self._redis.aclose()


def _number(entry_id: bytes) -> int:
    return int(entry_id.split(b"-", 1)[1])
