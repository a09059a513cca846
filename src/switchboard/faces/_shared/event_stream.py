"""A streaming HTTP response for long model answers, as a plain ASGI app (no BaseHTTPMiddleware).

- sends the proxy-friendly headers (`Cache-Control: no-cache`, `X-Accel-Buffering: no`);
- sends a heartbeat (an SSE comment by default) whenever nothing was sent for `heartbeat` seconds;
- when the client disconnects, cancels the producer, so the engine stops the upstream call and
  keeps the partial answer as `interrupted`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
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
        self._heartbeat = heartbeat
        self._ping = ping
        self._headers = headers if headers is not None else SSE_HEADERS
        self._status = status
        self._last_sent = 0.0
        self.disconnected = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self._status, "headers": self._headers})
        self._last_sent = anyio.current_time()
        async with anyio.create_task_group() as group:

            async def stream_then_stop() -> None:
                await self._stream(send)
                group.cancel_scope.cancel()

            async def watch_then_stop() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                self.disconnected = True
                group.cancel_scope.cancel()

            group.start_soon(stream_then_stop)
            group.start_soon(watch_then_stop)
            if self._ping and self._heartbeat > 0:
                group.start_soon(self._beat, send)

    async def _stream(self, send: Send) -> None:
        try:
            async for chunk in self._chunks:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    self._last_sent = anyio.current_time()
        except OSError:  # the client went away while we wrote
            self.disconnected = True
            return
        finally:
            closer = getattr(self._chunks, "aclose", None)
            if closer is not None:
                with anyio.CancelScope(shield=True):
                    await closer()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _beat(self, send: Send) -> None:
        while True:
            await anyio.sleep(max(0.05, self._last_sent + self._heartbeat - anyio.current_time()))
            if anyio.current_time() - self._last_sent >= self._heartbeat:
                self._last_sent = anyio.current_time()
                await send({"type": "http.response.body", "body": self._ping, "more_body": True})
