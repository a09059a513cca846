"""Per-key requests- and tokens-per-minute limits, and login failure counters, shared by every worker, in Redis.

Fixed one-minute windows: `<prefix><key>:<minute>:r` counts requests and `...:t` tokens. The check
and the count are one Lua script, so two workers can never both take the last request of a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redis.asyncio import Redis

_WINDOW = 60
# KEYS: requests counter, tokens counter; ARGV: rpm ('' = none), tpm ('' = none), expiry seconds
_ACQUIRE = """
local requests = tonumber(redis.call('GET', KEYS[1]) or '0')
local tokens = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[2] ~= '' and tokens >= tonumber(ARGV[2]) then return 0 end
if ARGV[1] ~= '' and requests >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


class RedisRateLimiter:
    def __init__(self, url: str, *, prefix: str = "switchboard:rate:", clock: Callable[[], float] = time.time) -> None:
        self._redis: Redis = Redis.from_url(url)
        self._prefix = prefix
        self._clock = clock
        self._acquire = self._redis.register_script(_ACQUIRE)

    async def acquire(self, key: str, *, rpm: int | None, tpm: int | None) -> float | None:
        now = self._clock()
        base = self._base(key, now)
        allowed = await self._acquire(
            keys=[base + ":r", base + ":t"],
            args=["" if rpm is None else rpm, "" if tpm is None else tpm, _WINDOW * 2],
        )
        if allowed:
            return None
        return max(_WINDOW - now % _WINDOW, 0.001)

    async def add_tokens(self, key: str, tokens: int) -> None:
        counter = self._base(key, self._clock()) + ":t"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(counter, tokens)
            pipe.expire(counter, _WINDOW * 2)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()

    def _base(self, key: str, now: float) -> str:
        return f"{self._prefix}{key}:{int(now // _WINDOW)}"


# KEYS: the attempt counter; ARGV: amount, window in milliseconds. The first attempt opens the window.
_ADD_ATTEMPTS = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL'); count = 0 end
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {count, redis.call('PTTL', KEYS[1])}
"""


class RedisAttemptCounter:
    """core.ports.system.AttemptCounter shared by every worker: one counter per key that expires
    with its window (the count and the expiry in one script, so workers never lose an attempt)."""

    def __init__(self, url: str, *, prefix: str = "switchboard:attempts:") -> None:
        self._redis: Redis = Redis.from_url(url)
        self._prefix = prefix
        self._add = self._redis.register_script(_ADD_ATTEMPTS)

    async def add(self, key: str, amount: int, window_seconds: float) -> tuple[int, float]:
        count, ttl = await self._add(keys=[self._prefix + key], args=[amount, max(1, int(window_seconds * 1000))])
        return int(count), max(int(ttl), 0) / 1000

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()
