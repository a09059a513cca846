"""Pushing messages to connected clients (WebSocket sessions, IM bots), possibly on other workers.

Channels are strings chosen by the faces, e.g. `webchat:<user_id>:<session_id>` or `miochat:<user_id>`.
The in-process adapter serves one worker; a Redis adapter carries pushes across workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class PushBus(Protocol):
    async def publish(self, channel: str, payload: dict[str, Any]) -> int:
        """Returns how many subscribers (in this process, or as Redis reports) received it."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...
