"""Answers' event logs in this process: enough for a single worker (core.ports.streams)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from switchboard.core.ports.streams import LogEntry


@dataclass(slots=True)
class _Log:
    entries: deque[LogEntry]
    expires_at: float
    resumed: bool = False
    grown: asyncio.Event = field(default_factory=asyncio.Event)


class InMemoryAnswerLog:
    def __init__(self, ttl_seconds: float, max_events: int) -> None:
        self._ttl = ttl_seconds
        self._max_events = max_events
        self._logs: dict[str, _Log] = {}

    async def append(self, key: str, entries: Sequence[LogEntry]) -> None:
        log = self._logs.get(key)
        if log is None:
            self._forget_expired()  # once per answer, not per event
            log = self._logs[key] = _Log(deque(maxlen=self._max_events), 0.0)
        log.entries.extend(entries)
        log.expires_at = time.monotonic() + self._ttl
        # wake the readers waiting for this log, then arm a fresh event for the next ones
        log.grown.set()
        log.grown = asyncio.Event()

    async def read(self, key: str, after: int, wait_seconds: float) -> list[LogEntry] | None:
        log = self._live(key)
        if log is None:
            return None
        found = _after(log.entries, after)
        if found or wait_seconds <= 0:
            return found
        try:
            await asyncio.wait_for(log.grown.wait(), wait_seconds)
        except TimeoutError:
            return []
        log = self._live(key)
        return _after(log.entries, after) if log is not None else None

    async def mark_resumed(self, key: str) -> None:
        log = self._live(key)
        if log is not None:
            log.resumed = True

    async def was_resumed(self, key: str) -> bool:
        log = self._live(key)
        return log is not None and log.resumed

    async def close(self) -> None:
        self._logs.clear()

    def _live(self, key: str) -> _Log | None:
        log = self._logs.get(key)
        if log is not None and log.expires_at <= time.monotonic():
            del self._logs[key]
            return None
        return log

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, log in self._logs.items() if log.expires_at <= now]:
            del self._logs[key]


def _after(entries: deque[LogEntry], after: int) -> list[LogEntry]:
    # numbers only grow, so the wanted events are a tail: walk back from the newest
    tail: list[LogEntry] = []
    for entry in reversed(entries):
        if entry[0] <= after:
            break
        tail.append(entry)
    tail.reverse()
    return tail
