"""Per-key requests- and tokens-per-minute limits shared by every worker, in Redis.

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
