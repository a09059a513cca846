"""Answers' event logs in this process: enough for a single worker (core.ports.streams).

Text and reasoning deltas are kept as runs of plain values, (first number, kind, texts), not as
events: such a tuple holds nothing the garbage collector must follow, so it stops tracking it. An
ended answer's log stays ~30 s; kept as event objects, the tokens of every recent answer were
walked by each full collection (measured: 1.3 s of them in an 8 s run of 1000-token streams at
64 clients, about a third of the server's CPU). One run per appended batch of text (what one
upstream read brought): a tuple per token cost ~5% of a streaming server's loop.
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
# (the first event's number, kind, the texts of a run of deltas numbered on from it, or the event)
Kept = tuple[int, int, tuple[str, ...]] | tuple[int, int, ChatEvent]


@dataclass(slots=True)
class _Log:
    runs: deque[Kept] = field(default_factory=deque)
    events: int = 0  # how many events the runs hold
    expires_at: float = 0.0
    resumed: bool = False
    grown: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, entries: Sequence[LogEntry], max_events: int) -> None:
        texts = [event.text for _, event in entries if isinstance(event, TextDelta)]
        if len(texts) == len(entries):  # the batch nearly every append is: text alone
            self.runs.append((entries[0][0], _TEXT, tuple(texts)))
        else:
            self.runs.extend(_runs(entries))
        self.events += len(entries)
        # the newest `max_events` stay: whole runs go first, then the front of the oldest kept
        runs = self.runs
        while self.events > max_events:
            number, kind, value = runs[0]
            size = len(value) if isinstance(value, tuple) else 1
            over = self.events - max_events
            if size <= over or not isinstance(value, tuple):
                runs.popleft()
                self.events -= size
            else:
                runs[0] = (number + over, kind, value[over:])
                self.events -= over


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
            log = self._logs[key] = _Log()
        log.add(entries, self._max_events)
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
        found = _after(log.runs, after)
        if found or wait_seconds <= 0:
            return found
        try:
            await asyncio.wait_for(log.grown.wait(), wait_seconds)
        except TimeoutError:
            return []
        log = self._live(key)
        return _after(log.runs, after) if log is not None else None

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


def _runs(entries: Sequence[LogEntry]) -> list[Kept]:
    """A mixed batch (reasoning and text, or the answer's end) as runs of same-kind deltas and
    single events."""
    runs: list[Kept] = []
    first, kind, texts = 0, _EVENT, list[str]()
    for number, event in entries:
        now = _TEXT if type(event) is TextDelta else _REASONING if type(event) is ReasoningDelta else _EVENT
        if texts and now != kind:
            runs.append((first, kind, tuple(texts)))
            texts = []
        if not isinstance(event, TextDelta | ReasoningDelta):
            runs.append((number, _EVENT, event))
            continue
        if not texts:
            first, kind = number, now
        texts.append(event.text)
    if texts:
        runs.append((first, kind, tuple(texts)))
    return runs


def _after(runs: deque[Kept], after: int) -> list[LogEntry]:
    # numbers only grow, so the wanted events are a tail: walk back from the newest run
    tail: list[list[LogEntry]] = []
    for first, kind, value in reversed(runs):
        if not isinstance(value, tuple):  # one event
            if first <= after:
                break
            tail.append([(first, value)])
            continue
        make = TextDelta if kind == _TEXT else ReasoningDelta
        skip = max(after + 1 - first, 0)
        tail.append([(number, make(text)) for number, text in enumerate(value[skip:], first + skip)])
        if skip:
            break
    return [entry for run in reversed(tail) for entry in run]
