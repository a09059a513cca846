"""Redis pub/sub push bus: a push published by any worker reaches subscribers on every worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from redis.asyncio import Redis

PREFIX = "switchboard:push:"
PING_TIMEOUT_SECONDS = 5.0


class RedisPushBus:
    def __init__(self, url: str) -> None:
        self._redis: Redis = Redis.from_url(url)

    async def publish(self, channel: str, payload: dict[str, Any]) -> int:
        return int(await self._redis.publish(PREFIX + channel, orjson.dumps(payload)))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(PREFIX + channel)
        # Redis confirms a subscription asynchronously; a push published before the confirmation is
        # not delivered, so the subscriber is handed over only once Redis has said "subscribe"
        async with asyncio.timeout(PING_TIMEOUT_SECONDS):
            while (await pubsub.get_message(timeout=PING_TIMEOUT_SECONDS) or {}).get("type") != "subscribe":
                pass
        try:
            yield _messages(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    async def ping(self) -> bool:
        """Readiness: Redis answers within a few seconds (a probe reports, it never raises)."""
        try:
            async with asyncio.timeout(PING_TIMEOUT_SECONDS):
                return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


async def _messages(pubsub: Any) -> AsyncIterator[dict[str, Any]]:
    async for message in pubsub.listen():
        if message.get("type") == "message":
            yield orjson.loads(message["data"])
