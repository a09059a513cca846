"""Pushing messages to connected clients (WebSocket sessions, IM bots), possibly on other workers.

Channels are strings chosen by the faces, e.g. `webchat:<user_id>:<session_id>` or `miochat:<user_id>`.
The in-process adapter serves one worker; a Redis adapter carries pushes across workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

from switchboard.core.domain.conversations import Part
from switchboard.core.domain.platforms import ImBot


class PushBus(Protocol):
    async def publish(self, channel: str, payload: dict[str, Any]) -> int:
        """Returns how many subscribers (in this process, or as Redis reports) received it."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # subscribing again after the bus (Redis) went away


async def keep_listening(bus: PushBus, channel: str, handle: Callable[[dict[str, Any]], Awaitable[None]],
                         subscribed: asyncio.Event, what: str) -> None:
    """Hands every message of `channel` to `handle`, for as long as the caller's task runs: a lost
    bus is subscribed to again with a growing wait, and said in the log as `what` lost it."""
    failures = 0
    while True:
        try:
            async with bus.subscribe(channel) as messages:
                subscribed.set()
                failures = 0
                async for message in messages:
                    await handle(message)
        except Exception as exc:
            wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            logging.getLogger(__name__).warning("%s lost the push bus on %s (%s); subscribing again in %.1f s",
                                                what, channel, exc, wait)
            await asyncio.sleep(wait)


class ImPlatforms(Protocol):
    """The IM bots this worker runs (platforms/), for proactive messages into a real chat."""

    def bots(self) -> list[ImBot]: ...

    async def deliver(self, platform_id: str, chat: Literal["private", "group"], chat_id: str, parts: list[Part],
                      owner_id: int) -> None:
        """Sends `parts` (files of `owner_id`) into the chat; NotFound for an unknown platform, an
        UpstreamError when no bot is connected or the platform refused the message."""
        ...


class ChangeAnnouncer(Protocol):
    """Tells the other workers that something they keep a copy of changed here (resolved credentials,
    the runtime settings, the MCP servers), so it holds everywhere at once, not after a cache expires."""

    def announce(self, kind: str, **details: Any) -> None:
        """Queued and sent in the background: the caller never waits on Redis, nor fails with it."""
        ...
