"""ChatEvent stream -> the proxy's stream: one envelope object per piece of text, then, for chat,
the chatcode, then the end (seed 001):

    {"code":0,"data":"你","message":"continue"}
    {"code":0,"data":"<chatcode>","message":"code"}      (chat only)
    {"code":0,"data":"[DONE]","message":"end"}
    {"code":<status>,"data":"<reason>","message":"error"}   (instead of the text and code, when it fails)
    {"code":0,"data":"[DONE]","message":"end"}               (after an error too: every stream ends so)

Clients of this API read the body, not the status: a failure found before the first word (unknown
model, quota, bad credentials, a malformed body) is sent the same way, `error` then `end`, with
HTTP 200; the `error` object's `code` is the status the plain routes answer.

`/stream` writes the objects as newline-delimited JSON, `/sse` as SSE `data:` lines. The
heartbeat of a silent model is an empty `continue` object in NDJSON (it has no comment syntax,
and an empty piece of text is harmless to every client) and a `: ping` comment in SSE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

import orjson
from starlette.responses import Response

from switchboard.core.domain import events as ev
from switchboard.core.domain.conversations import Conversation
from switchboard.core.domain.errors import DomainError
from switchboard.core.services.chat.turn import Turn
from switchboard.faces._shared.detach import Detacher
from switchboard.faces._shared.errors import status_for
from switchboard.faces._shared.event_stream import SSE_HEADERS, EventStream
from switchboard.faces.chatgpt_proxy.envelope import status_for_code

_NO_BUFFERING = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no"), (b"connection", b"keep-alive")]


@dataclass(frozen=True, slots=True)
class Framing:
    prefix: bytes
    suffix: bytes
    headers: list[tuple[bytes, bytes]]
    ping: bytes

    def frame(self, code: int, data: str, message: str) -> bytes:
        return self.prefix + orjson.dumps({"code": code, "data": data, "message": message}) + self.suffix

    def failure(self, status: int, reason: str) -> bytes:
        """The stream's last two objects when it fails: the `error`, then the `end` as always."""
        return self.frame(status, reason, "error") + self.frame(0, "[DONE]", "end")

    def error_response(self, status: int, reason: str) -> Response:
        """An error found before streaming began, as the whole stream (HTTP 200, see the module doc)."""
        media = dict(self.headers)[b"content-type"].decode()
        return Response(self.failure(status, reason), headers={"content-type": media, "cache-control": "no-cache"})


NDJSON = Framing(b"", b"\n", [(b"content-type", b"application/x-ndjson; charset=utf-8"), *_NO_BUFFERING],
                 b'{"code":0,"data":"","message":"continue"}\n')
SSE = Framing(b"data: ", b"\n\n", SSE_HEADERS, b": ping\n\n")


async def proxy_stream(
    events: AsyncIterator[ev.ChatEvent], framing: Framing, chatcode: str | None
) -> AsyncIterator[bytes]:
    prefix, suffix = framing.prefix, framing.suffix
    try:
        async for event in events:
            if type(event) is ev.TextDelta:
                # the hot path: one orjson call, no objects built
                yield prefix + orjson.dumps({"code": 0, "data": event.text, "message": "continue"}) + suffix
            elif isinstance(event, ev.Failed):
                yield framing.failure(status_for_code(event.code), event.message)
                return
            elif isinstance(event, ev.Done):
                if chatcode is not None:
                    yield framing.frame(0, chatcode, "code")
                yield framing.frame(0, "[DONE]", "end")
                return
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()


@dataclass(frozen=True, slots=True)
class StreamPolicy:
    heartbeat: float
    cancel_on_disconnect: bool  # off: the answer runs to its end after the client left
    detacher: Detacher

    async def respond(
        self, framing: Framing, start: Awaitable[tuple[Conversation, Turn]], *, with_code: bool
    ) -> Response:
        """Start the turn, then stream it. A failure before the first word (quota, unknown
        model) is the stream's `error` and `end`, with HTTP 200."""
        try:
            conversation, turn = await start
        except DomainError as exc:
            return framing.error_response(status_for(exc), exc.message)
        events = turn.events() if self.cancel_on_disconnect else self.detacher.detach(turn.events())
        chunks = proxy_stream(events, framing, conversation.id if with_code else None)
        return EventStream(chunks, heartbeat=self.heartbeat, ping=framing.ping, headers=framing.headers)
