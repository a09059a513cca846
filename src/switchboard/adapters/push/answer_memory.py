"""Answers' event logs in this process: enough for a single worker (core.ports.streams).

A text or reasoning delta is kept as a tuple of plain values, (number, kind, text), not as the
event: such a tuple holds nothing the garbage collector must follow, so it stops tracking it. An
ended answer's log stays ~30 s; kept as event objects, the tokens of every recent answer were
walked by each full collection (measured: 1.3 s of them in an 8 s run of 1000-token streams at
64 clients, about a third of the server's CPU).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from switchboard.core.domain.events import ChatEvent, ReasoningDelta, TextDelta
from switchboard.core.ports.streams import LogEntry

_TEXT, _REASONING, _EVENT = 0, 1, 2
Kept = tuple[int, int, str] | tuple[int, int, ChatEvent]  # (number, kind, text or, for _EVENT, the event)


@dataclass(slots=True)
class _Log:
    entries: deque[Kept]
    expires_at: float
    resumed: bool = False
    grown: asyncio.Event = field(default_factory=asyncio.Event)


class InMemoryAnswerLog:
    def __init__(self, ttl_seconds: float, max_events: int, ended_ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._ended_ttl = min(ttl_seconds, ended_ttl_seconds)
        self._max_events = max_events
        self._logs: dict[str, _Log] = {}
        # the keys of running and of ended answers, each least recently written first: within one
        # the deadlines come in order, so expiring looks at the fronts only, never at every log
        self._order: dict[bool, OrderedDict[str, None]] = {False: OrderedDict(), True: OrderedDict()}

    async def append(self, key: str, entries: Sequence[LogEntry], *, ended: bool = False) -> None:
        log = self._logs.get(key)
        if log is None:
            self._forget_expired()  # once per answer, not per event
            log = self._logs[key] = _Log(deque(maxlen=self._max_events), 0.0)
        log.entries.extend(map(_kept, entries))
        log.expires_at = time.monotonic() + (self._ended_ttl if ended else self._ttl)
        self._order[not ended].pop(key, None)
        self._order[ended][key] = None
        self._order[ended].move_to_end(key)
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
        for order in self._order.values():
            order.clear()

    def _live(self, key: str) -> _Log | None:
        log = self._logs.get(key)
        if log is not None and log.expires_at <= time.monotonic():
            self._forget(key)
            return None
        return log

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for order in self._order.values():
            while order:
                key = next(iter(order))
                if self._logs[key].expires_at > now:
                    break
                self._forget(key)

    def _forget(self, key: str) -> None:
        del self._logs[key]
        for order in self._order.values():
            order.pop(key, None)


def _kept(entry: LogEntry) -> Kept:
    number, event = entry
    if type(event) is TextDelta:
        return number, _TEXT, event.text
    if type(event) is ReasoningDelta:
        return number, _REASONING, event.text
    return number, _EVENT, event


def _entry(kept: Kept) -> LogEntry:
    number, kind, value = kept
    if isinstance(value, str):
        return number, TextDelta(value) if kind == _TEXT else ReasoningDelta(value)
    return number, value


def _after(entries: deque[Kept], after: int) -> list[LogEntry]:
    # numbers only grow, so the wanted events are a tail: walk back from the newest
    tail: list[LogEntry] = []
    for kept in reversed(entries):
        if kept[0] <= after:
            break
        tail.append(_entry(kept))
    tail.reverse()
    return tail
