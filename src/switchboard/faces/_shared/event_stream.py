"""A streaming HTTP response for long model answers, as a plain ASGI app (no BaseHTTPMiddleware).

- sends the proxy-friendly headers (`Cache-Control: no-cache`, `X-Accel-Buffering: no`);
- sends a heartbeat (an SSE comment by default) whenever nothing was sent for `heartbeat` seconds;
- when the client disconnects, cancels the producer, so the engine stops the upstream call and
  keeps the partial answer as `interrupted`.

Built on plain asyncio, because it opens every stream of the gateway's hot path: the chunks are
relayed in the request's own task, one small task waits for the disconnect, and the heartbeat is
a timer that only spawns a task when a ping is due (an anyio task group with three tasks cost
about three times as much to set up per stream).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"connection", b"keep-alive"),
]


class EventStream(Response):
    """A Response subclass only so FastAPI passes it through untouched; it writes itself."""

    def __init__(
        self, chunks: AsyncIterator[bytes], *, heartbeat: float = 15.0, ping: bytes = b": ping\n\n",
        headers: list[tuple[bytes, bytes]] | None = None, status: int = 200,
    ) -> None:
        self.status_code = status
        self.background = None
        self._chunks = chunks
        self._heartbeat = heartbeat if ping else 0.0
        self._ping = ping
        self._headers = headers if headers is not None else SSE_HEADERS
        self._last_sent = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._pinging: asyncio.Task[None] | None = None
        self._send: Send | None = None
        self.disconnected = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self._headers})
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        assert me is not None
        watcher = loop.create_task(self._watch(receive, me))
        self._send = send
        self._last_sent = loop.time()
        if self._heartbeat > 0:
            self._timer = loop.call_at(self._last_sent + self._heartbeat, self._beat)
        try:
            finished = await self._stream(send)
        except asyncio.CancelledError:
            if not self.disconnected:
                raise  # cancelled from outside (the server is stopping): not ours to swallow
            me.uncancel()
            finished = False
        finally:
            watcher.cancel()
            self._stop_beating()
        if finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _stream(self, send: Send) -> bool:
        """Relays the chunks; False when the client left first."""
        loop = asyncio.get_running_loop()
        try:
            async for chunk in self._chunks:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    self._last_sent = loop.time()
        except OSError:  # the client went away while we wrote
            self.disconnected = True
            return False
        finally:
            closer = getattr(self._chunks, "aclose", None)
            if closer is not None:
                await closer()
        return not self.disconnected

    async def _watch(self, receive: Receive, stream: asyncio.Task[None]) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        stream.cancel()

    def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        due = self._last_sent + self._heartbeat
        if loop.time() >= due and self._send is not None and (self._pinging is None or self._pinging.done()):
            self._last_sent = loop.time()
            self._pinging = loop.create_task(self._send_ping(self._send))
            due = self._last_sent + self._heartbeat
        self._timer = loop.call_at(due, self._beat)

    async def _send_ping(self, send: Send) -> None:
        try:
            await send({"type": "http.response.body", "body": self._ping, "more_body": True})
        except OSError:
            self.disconnected = True  # the watcher will notice too

    def _stop_beating(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._pinging is not None and not self._pinging.done():
            self._pinging.cancel()
