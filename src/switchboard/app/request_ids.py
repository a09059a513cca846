"""`X-Request-Id` on every response: the client's own when it is sane, else one made here; set as
the request's id (core.domain.correlation) while it is served, so logs and provider calls carry it.

Cheap on purpose, since it wraps every request: one pass over the headers, a counter for new ids
(unique across hosts by a random per-process prefix), and the response-start message touched once."""

from __future__ import annotations

import itertools
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.app.logs import redact
from switchboard.core.domain.correlation import REQUEST_ID

HEADER = b"x-request-id"
# what a proxy or client may send and we repeat: no spaces, quotes or control characters (they
# would let a caller forge log lines or headers), and not so long that it bloats every log line
_SANE = re.compile(rb"[A-Za-z0-9._:/+=@\-]{1,128}")


def _is_sane(value: bytes) -> bool:
    """Printable and short, and no credential (a key pasted there would reach logs and providers)."""
    if not _SANE.fullmatch(value):
        return False
    text = value.decode("ascii")
    return redact(text) == text


class RequestIds:
    def __init__(self) -> None:
        self._prefix = secrets.token_hex(6)
        self._counter = itertools.count(1)

    def new(self) -> str:
        return f"{self._prefix}-{next(self._counter):x}"

    def of(self, scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == HEADER:
                return value.decode("ascii") if _is_sane(value) else self.new()
        return self.new()

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> int | None:
        """`app` answers with the request's id set and sent back in the response's headers; the
        response's status (101 for an accepted WebSocket, 403 for a refused one), None if none went out."""
        request_id = self.of(scope)
        stamp = (HEADER, request_id.encode("ascii"))
        http = scope["type"] == "http"
        starts = "http.response.start" if http else "websocket.accept"
        status: int | None = None if http else 403

        async def stamped(message: Message) -> None:
            nonlocal status
            if message["type"] == starts:
                message["headers"] = [*message.get("headers", ()), stamp]  # a copy: a response may be reused
                status = message["status"] if http else 101
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await app(scope, receive, stamped)
        finally:
            REQUEST_ID.reset(token)
        return status
