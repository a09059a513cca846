"""Leases (core.ports.leases.Leases): in Redis for several workers or hosts, in memory for one.

Redis: `SET key token NX PX ttl` takes a free lease; renewing and releasing compare the stored token
with ours first, in one Lua script (atomic on the server), so a worker whose lease expired and was
taken by another can never extend or delete the new holder's. Time is Redis's own (PX), so the
workers' clocks do not matter."""

from __future__ import annotations

import secrets
import time

from redis.asyncio import Redis

PREFIX = "switchboard:lease:"

# KEYS[1] the lease, ARGV[1] our token, ARGV[2] the new time-to-live in milliseconds
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def new_holder(worker_id: str) -> str:
    """A worker's token: its id (so others can tell who holds what) and a random part (unique even
    when a restarted worker reuses an id)."""
    return f"{worker_id}:{secrets.token_hex(8)}"


class RedisLeases:
    def __init__(self, url: str, holder: str) -> None:
        self.holder = holder
        self._redis: Redis = Redis.from_url(url)
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)

    async def take(self, name: str, ttl_seconds: float) -> bool:
        if await self._redis.set(PREFIX + name, self.holder, nx=True, px=_ms(ttl_seconds)):
            return True
        return await self.renew(name, ttl_seconds)  # ours already (a retry after a blip): keep it

    async def renew(self, name: str, ttl_seconds: float) -> bool:
        return bool(await self._renew(keys=[PREFIX + name], args=[self.holder, _ms(ttl_seconds)]))

    async def release(self, name: str) -> None:
        await self._release(keys=[PREFIX + name], args=[self.holder])

    async def holder_of(self, name: str) -> str | None:
        value = await self._redis.get(PREFIX + name)
        return value.decode() if isinstance(value, bytes) else value

    async def close(self) -> None:
        await self._redis.aclose()


class InMemoryLeases:
    """One worker: nobody to share with, but the same semantics (a test may make two of these share
    `table` to stand for two workers)."""

    def __init__(self, holder: str, table: dict[str, tuple[str, float]] | None = None) -> None:
        self.holder = holder
        self._table = table if table is not None else {}  # name -> (holder, expires at, monotonic)

    async def take(self, name: str, ttl_seconds: float) -> bool:
        current = self._current(name)
        if current is not None and current != self.holder:
            return False
        self._table[name] = (self.holder, time.monotonic() + ttl_seconds)
        return True

    async def renew(self, name: str, ttl_seconds: float) -> bool:
        if self._current(name) != self.holder:
            return False
        self._table[name] = (self.holder, time.monotonic() + ttl_seconds)
        return True

    async def release(self, name: str) -> None:
        if self._current(name) == self.holder:
            del self._table[name]

    async def holder_of(self, name: str) -> str | None:
        return self._current(name)

    async def close(self) -> None:
        pass

    def _current(self, name: str) -> str | None:
        holder, expires = self._table.get(name, ("", 0.0))
        return holder if holder and expires > time.monotonic() else None


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
