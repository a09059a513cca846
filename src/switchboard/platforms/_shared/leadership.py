"""One worker at a time runs an IM platform's outbound connection (a Telegram long poll, a forward
OneBot WebSocket): two pollers of one bot token get 409 Conflict, two dialled sockets answer every
message twice. The worker holding the platform's lease (core.ports.leases) runs it; the others stand
by and try to take the lease every third of its time-to-live, so when the holder dies (kill -9, a
lost host) its lease expires and one of them takes over within about the lease's time.

    leadership = Leadership(leases, ttl_seconds=15)
    await leadership.lead("platform:tg", connection, standby=lambda: state.set("standby"))

While leading, the lease is renewed every third of its time-to-live; a renewal refused (the lease
expired and another worker took it) stops the connection at once. A renewal that fails because
Redis is away keeps the connection only while the lease surely has not expired yet."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from switchboard.core.ports.leases import Leases

log = logging.getLogger("switchboard.platforms")

RELEASE_TIMEOUT_SECONDS = 2.0  # a stopping worker hands its lease over; Redis away must not hold it up


class Leadership:
    def __init__(self, leases: Leases, ttl_seconds: float) -> None:
        self.leases = leases
        self.ttl = ttl_seconds

    @property
    def every(self) -> float:
        """How often a holder renews and a standby worker tries to take the lease."""
        return self.ttl / 3

    async def lead(self, name: str, connection: Callable[[], Coroutine[Any, Any, None]],
                   standby: Callable[[], None]) -> None:
        """Forever (until cancelled): waits for the lease, runs `connection` while holding it, and
        goes back to waiting when it is lost. Cancelling releases the lease for another worker."""
        try:
            while True:
                if await self._take(name):
                    log.info("this worker now runs %s", name)
                    await self._hold(name, connection)
                standby()
                await asyncio.sleep(self.every)
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(RELEASE_TIMEOUT_SECONDS):
                    await self.leases.release(name)

    async def _take(self, name: str) -> bool:
        try:
            async with asyncio.timeout(self.every):  # a Redis that hangs is a Redis away
                return await self.leases.take(name, self.ttl)
        except Exception as exc:  # Redis away: nobody can take it now; try again later
            log.warning("the lease %s could not be asked for (%s: %s)", name, type(exc).__name__, exc)
            return False

    async def _hold(self, name: str, connection: Callable[[], Coroutine[Any, Any, None]]) -> None:
        running = asyncio.create_task(connection(), name=f"{name} (leading)")
        keeping = asyncio.create_task(self._keep(name))
        try:
            await asyncio.wait({running, keeping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (running, keeping):
                task.cancel()
            await asyncio.gather(running, keeping, return_exceptions=True)

    async def _keep(self, name: str) -> None:
        """Returns when the lease is lost."""
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.every)
            asked = time.monotonic()  # the renewed lease runs from about now (Redis's clock), never earlier
            try:
                # a hung Redis counts as a failure, decided well before the lease could lapse
                async with asyncio.timeout(self.every / 2):
                    renewed_now = await self.leases.renew(name, self.ttl)
                if not renewed_now:
                    log.warning("this worker lost %s to another; its connection stops", name)
                    return
                renewed = asked
            except Exception as exc:
                if time.monotonic() + self.every >= renewed + self.ttl:  # it may lapse before the next try
                    log.warning("the lease %s could not be renewed in time (%s); its connection stops", name,
                                type(exc).__name__)
                    return
                log.warning("the lease %s could not be renewed (%s: %s); trying again", name, type(exc).__name__, exc)
