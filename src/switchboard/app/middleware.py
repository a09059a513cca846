"""Pure ASGI middleware (BaseHTTPMiddleware would buffer and slow every stream)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.app.faces import FaceTable
from switchboard.core.domain.errors import PayloadTooLarge

# JSON bodies that carry an upload (Mio-Chat posts images as base64 data URIs): the upload limit,
# plus base64's third
JSON_UPLOAD_PATHS = ("/api/upload/image",)


class BodyLimit:
    """Refuses request bodies over the limit (multipart uploads get the larger upload limit),
    by Content-Length up front, or by counting the bytes of a chunked body as they arrive, in the
    face's own envelope."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int, faces: FaceTable) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.faces = faces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type, declared = b"", b""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
        is_raw_upload = content_type.startswith((b"multipart/", b"image/", b"audio/", b"video/", b"application/octet"))
        if is_raw_upload:
            limit = self.max_upload_bytes
        elif scope["path"] in JSON_UPLOAD_PATHS:
            limit = self.max_upload_bytes * 4 // 3 + 1024
        else:
            limit = self.max_bytes
        if declared.isdigit():
            if int(declared) > limit:
                await self._refuse(scope, receive, send, limit)
            else:  # the server delivers no more than the declared length: nothing to count
                await self.app(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLarge(f"the request body is larger than the limit of {limit} bytes")
        response = self.faces.renderer_for(scope["path"])(error, 413)
        await response(scope, receive, send)


class _TooLarge(HTTPException):
    """An HTTPException so FastAPI's body reader re-raises it and the face renders a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")
