"""uvicorn with one socket write per whole response instead of two.

uvicorn's HTTP/1.1 protocol writes a response's status line and headers as soon as the app sends
`http.response.start`, and the body with the next message: two `send()` system calls, two TCP
segments, two wake-ups of the client, for every JSON answer. On loopback and behind a reverse
proxy most of a small request's kernel time is these writes (py-spy on a stored chat turn: the
header write alone was ~10% of the worker's samples). Here the header block waits until the
end of the event loop's current step: the body of a whole response, sent in the same step (no
await between Starlette's two `send`s suspends), goes out with it in one write; anything else
(a stream's first event comes later, a HEAD answer has no body) finds the headers already
written one loop step later, as before. Nothing else changes: every byte, and its order, is
what uvicorn wrote."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_STATUS_LINE = b"HTTP/1.1 "  # how uvicorn's every header block begins (HTTP/1.0 clients get 1.1 too)


class HeaderHoldingTransport:
    """The connection's transport, holding a response's header block until the end of the loop
    step (see the module doc). Everything but writing and closing goes to the real transport."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held + data)
        elif data[:9] == _STATUS_LINE:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        self.flush()
        self._transport.writelines(chunks)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()  # what was written before the close still goes out first
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a header-holding transport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeaderHoldingTransport(transport, self.loop))  # type: ignore[arg-type]
