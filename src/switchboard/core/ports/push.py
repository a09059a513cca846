"""Pushing messages to connected clients (WebSocket sessions, IM bots), possibly on other workers.

Channels are strings chosen by the faces, e.g. `webchat:<user_id>:<session_id>` or `miochat:<user_id>`.
The in-process adapter serves one worker; a Redis adapter carries pushes across workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

from switchboard.core.domain.conversations import Part
from switchboard.core.domain.platforms import ImBot


class PushBus(Protocol):
    async def publish(self, channel: str, payload: dict[str, Any]) -> int:
        """Returns how many subscribers (in this process, or as Redis reports) received it."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


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
