"""Keeping IM platforms connected: each runs in its own task, is started again with growing
backoff whenever its connection ends or fails, and reports its state; none ever stops the server.
With several workers, a platform whose connection is dialled out (`exclusive`) runs only in the
worker holding its lease (leadership.py); the others report it as `standby`.

    supervisor = Supervisor([qq, tg])
    await supervisor.start()      # returns at once; connecting happens in the background
    supervisor.states()           # [PlatformState(id="qq", status="connected", bots={...}), ...]
    await supervisor.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from switchboard.platforms._shared.leadership import Leadership
from switchboard.platforms._shared.messages import Reply, Target

log = logging.getLogger("switchboard.platforms")

Status = Literal["starting", "connected", "waiting", "retrying", "standby", "stopped"]


@dataclass(slots=True)
class BotState:
    online: bool = True
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(slots=True)
class PlatformState:
    id: str
    type: str
    status: Status = "starting"
    detail: str | None = None  # what went wrong last, for administrators
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    bots: dict[str, BotState] = field(default_factory=dict)  # bot account id -> its state
    settings: dict[str, object] = field(default_factory=dict)  # its configuration, secrets masked

    def set(self, status: Status, detail: str | None = None) -> None:
        self.status, self.detail, self.since = status, detail, datetime.now(UTC)


class Platform(Protocol):
    state: PlatformState

    @property
    def exclusive(self) -> bool:
        """Its connection is dialled out (Telegram polling, forward OneBot) and must run in one worker
        at a time; a platform others dial into (reverse OneBot) runs in every worker."""
        ...

    async def run(self) -> None:
        """Connect and serve until the connection ends (return) or fails (raise); run again after
        a pause. A platform others connect to (OneBot's reverse WebSocket) waits here instead."""
        ...

    async def deliver(self, target: Target, reply: Reply) -> None:
        """A message the bot starts (proactive); DomainError when no bot can send it or it was refused."""
        ...

    async def close(self) -> None:
        """Stop what is still in progress (answers being made); run() has been cancelled already."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    initial: float = 1.0
    maximum: float = 60.0

    def delay(self, failures: int) -> float:
        return float(min(self.initial * 2 ** max(failures - 1, 0), self.maximum))


class Supervisor:
    """Platforms can be added and removed while it runs (the admin API): an added one starts at
    once if the supervisor has started, a removed one is stopped and closed."""

    def __init__(self, platforms: dict[str, Platform], backoffs: dict[str, Backoff] | None = None,
                 leadership: Leadership | None = None) -> None:
        self.platforms = platforms
        self.backoffs = backoffs or {}
        self.leadership = leadership  # None: this worker runs every platform (one worker, or tests)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started = False

    async def start(self) -> None:
        self._started = True
        for platform_id in self.platforms:
            self._run(platform_id)

    def add(self, platform_id: str, platform: Platform, backoff: Backoff) -> None:
        """A new platform (its id must be free: `remove` the old one first)."""
        self.platforms[platform_id] = platform
        self.backoffs[platform_id] = backoff
        if self._started:
            self._run(platform_id)

    async def remove(self, platform_id: str) -> None:
        """Stops the platform and closes its connections; nothing if it is not there."""
        if platform_id in self.platforms:
            await self._stop(platform_id)
            del self.platforms[platform_id]
            self.backoffs.pop(platform_id, None)

    def states(self) -> list[PlatformState]:
        return [p.state for p in self.platforms.values()]

    async def close(self) -> None:
        """Stops every platform; they stay listed, as stopped."""
        self._started = False
        for platform_id in list(self.platforms):
            await self._stop(platform_id)

    async def _stop(self, platform_id: str) -> None:
        task = self._tasks.pop(platform_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        platform = self.platforms[platform_id]
        await platform.close()
        platform.state.set("stopped")

    def _run(self, platform_id: str) -> None:
        platform, backoff = self.platforms[platform_id], self.backoffs.get(platform_id, Backoff())
        if self.leadership is not None and platform.exclusive:
            running = self.leadership.lead(f"platform:{platform_id}", lambda: self._keep(platform, backoff),
                                           standby=lambda: self._standby(platform.state))
        else:
            running = self._keep(platform, backoff)
        self._tasks[platform_id] = asyncio.create_task(running, name=f"platform {platform_id}")

    @staticmethod
    def _standby(state: PlatformState) -> None:
        state.bots.clear()
        if state.status != "standby":
            state.set("standby", "another worker runs this connection")

    async def _keep(self, platform: Platform, backoff: Backoff) -> None:
        state = platform.state
        failures = 0
        while True:
            state.set("starting")
            try:
                await platform.run()
                detail = "the connection closed"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of one platform must leave the others and the server up
                detail = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("platform %s failed: %s", state.id, detail)
            # a connection that came up before it ended starts the backoff afresh
            failures = 1 if state.status == "connected" else failures + 1
            state.bots.clear()
            pause = backoff.delay(failures)
            state.set("retrying", f"{detail}; retrying in {pause:g} s")
            await asyncio.sleep(pause)
