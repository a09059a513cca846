"""Where an answer's events are kept while it streams, so a client that lost its connection can
come back (on any worker) and read what it missed, then the live tail (services.chat.replay).

An answer's log is a sequence of its ChatEvents numbered 1, 2, 3 … by the writer; a reader asks
for the events after the last number it saw. Once the answer has ended its log is kept a short
while only: a client that comes back later gets the stored message instead. The in-process
adapter serves one worker; the Redis adapter (Redis Streams) serves several."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from switchboard.core.domain.events import ChatEvent

LogEntry = tuple[int, ChatEvent]


class AnswerLog(Protocol):
    async def append(self, key: str, entries: Sequence[LogEntry], *, ended: bool = False) -> None:
        """Adds events numbered above every earlier one; keeps the newest `max_events` of the log
        and (re)starts its time to live, so a log nobody finishes still goes away; `ended` (the
        answer's last events) gives it the shorter time to live of an ended answer."""
        ...

    async def read(self, key: str, after: int, wait_seconds: float) -> list[LogEntry] | None:
        """The events numbered above `after`, oldest first; when there are none yet, waits up to
        `wait_seconds` for the next. None when there is no such log (never written, or expired)."""
        ...

    async def mark_resumed(self, key: str) -> None:
        """A client came back for this answer: the answer should run to its end."""
        ...

    async def was_resumed(self, key: str) -> bool: ...

    async def close(self) -> None: ...
