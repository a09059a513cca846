"""Where an answer's events are kept while it streams, so a client that lost its connection can
come back (on any worker) and read what it missed, then the live tail (services.chat.replay).

An answer's log is a sequence of JSON-able events numbered 1, 2, 3 … by the writer; a reader asks
for the events after the last number it saw. The in-process adapter serves one worker; the Redis
adapter (Redis Streams) serves several."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

LogEntry = tuple[int, dict[str, Any]]


class AnswerLog(Protocol):
    async def append(self, key: str, entries: Sequence[LogEntry]) -> None:
        """Adds events numbered above every earlier one; keeps the newest `max_events` of the log
        and (re)starts its time to live, so a log nobody finishes still goes away."""
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
