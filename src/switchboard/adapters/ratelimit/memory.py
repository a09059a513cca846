"""Rate limits for one worker: per-key requests and tokens per minute (fixed one-minute windows),
and failure counters for the login throttle."""

from __future__ import annotations

import time
from collections.abc import Callable

_WINDOW = 60.0
_PRUNE_AT = 10_000  # keys remembered before stale windows are dropped


class InMemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._windows: dict[str, list[float]] = {}  # key -> [window start, requests, tokens]

    async def acquire(self, key: str, *, rpm: int | None, tpm: int | None) -> float | None:
        now = self._clock()
        window = self._window(key, now)
        if (rpm is not None and window[1] >= rpm) or (tpm is not None and window[2] >= tpm):
            return max(window[0] + _WINDOW - now, 0.001)
        window[1] += 1
        return None

    async def add_tokens(self, key: str, tokens: int) -> None:
        self._window(key, self._clock())[2] += tokens

    async def close(self) -> None:
        self._windows.clear()

    def _window(self, key: str, now: float) -> list[float]:
        start = now - now % _WINDOW
        window = self._windows.get(key)
        if window is None or window[0] != start:
            if len(self._windows) >= _PRUNE_AT:
                self._windows = {k: w for k, w in self._windows.items() if w[0] == start}
            window = self._windows[key] = [start, 0, 0]
        return window


class InMemoryAttemptCounter:
    """core.ports.system.AttemptCounter for one worker (the login throttle without Redis)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, count)

    async def add(self, key: str, amount: int, window_seconds: float) -> tuple[int, float]:
        now = self._clock()
        end, count = self._windows.get(key, (0.0, 0))
        if end <= now:
            if len(self._windows) >= _PRUNE_AT:  # a spray of names must not grow memory without end
                self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
            end, count = now + window_seconds, 0
        count = max(count + amount, 0)
        self._windows[key] = (end, count)
        return count, end - now

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)

    async def close(self) -> None:
        self._windows.clear()
