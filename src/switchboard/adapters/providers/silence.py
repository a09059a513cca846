"""Fails a streamed read when the upstream stays silent too long.

One timer per stream instead of `asyncio.timeout` around every read: that costs about 4 µs per
network chunk, a timestamp about 0.06 µs. The timer only fires (and re-arms itself) once per
patience period; each read merely records when it is due.
"""

from __future__ import annotations

import asyncio

import aiohttp

from switchboard.core.domain.errors import UpstreamTimeout

_SLACK = 0.001  # timers fire a hair early on coarse clocks


class SilenceWatchdog:
    __slots__ = ("_content", "_due", "_handle", "_loop", "_message")

    def __init__(self, content: aiohttp.StreamReader) -> None:
        self._content = content
        self._loop = asyncio.get_running_loop()
        self._due: float | None = None
        self._message = ""
        self._handle: asyncio.TimerHandle | None = None

    async def read(self, patience: float, message: str) -> bytes:
        """The next bytes of the body (b"" at its end); UpstreamTimeout(message) if none arrive
        within `patience` seconds."""
        due = self._loop.time() + patience
        self._due = due
        self._message = message
        handle = self._handle
        if handle is None or handle.when() > due:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(due, self._check)
        try:
            return await self._content.readany()
        finally:
            self._due = None

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        self._handle = None
        due = self._due
        if due is None:
            return  # not reading now: the next read arms the timer again
        if self._loop.time() >= due - _SLACK:
            self._content.set_exception(UpstreamTimeout(self._message))
        else:
            self._handle = self._loop.call_at(due, self._check)
