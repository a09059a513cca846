"""The change feed between workers: what one worker announces (ChangeAnnouncer), every other worker
applies, over the push bus's `changes` channel (Redis pub/sub with several workers or hosts).

Announcing never waits: changes are queued and published by a task of their own. Each worker skips
its own announcements (it applied them already). A lost announcement (Redis away for a moment) costs
what it cost before the feed: the other workers see the change when their copy expires."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from switchboard.core.ports.push import PushBus, keep_listening

log = logging.getLogger("switchboard")

CHANNEL = "changes"
SUBSCRIBE_TIMEOUT_SECONDS = 10.0

Applier = Callable[[dict[str, Any]], Awaitable[None]]


class ChangeFeed:
    def __init__(self, bus: PushBus, worker_id: str) -> None:
        self._bus = bus
        self._worker = worker_id
        self._appliers: dict[str, Applier] = {}
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def on(self, kind: str, applier: Applier) -> None:
        self._appliers[kind] = applier

    def announce(self, kind: str, **details: Any) -> None:
        self._outbox.put_nowait({"kind": kind, "worker": self._worker, **details})

    async def start(self) -> None:
        """Returns once subscribed, so nothing announced after start-up is missed."""
        subscribed = asyncio.Event()
        listening = keep_listening(self._bus, CHANNEL, self._apply, subscribed, "the change feed")
        self._tasks = [asyncio.create_task(listening),
                       asyncio.create_task(self._publish())]
        with contextlib.suppress(TimeoutError):  # Redis down: serve anyway, the listener keeps trying
            await asyncio.wait_for(subscribed.wait(), SUBSCRIBE_TIMEOUT_SECONDS)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _publish(self) -> None:
        while True:
            change = await self._outbox.get()
            try:
                await self._bus.publish(CHANNEL, change)
            except Exception as exc:
                log.warning("a %s change could not be announced to the other workers: %s", change["kind"], exc)

    async def _apply(self, change: dict[str, Any]) -> None:
        if change.get("worker") == self._worker:
            return
        applier = self._appliers.get(str(change.get("kind")))
        if applier is None:
            return  # a newer worker's kind of change: nothing of ours keeps a copy of it
        try:
            await applier(change)
        except Exception:
            log.exception("a %s change from another worker could not be applied", change.get("kind"))
