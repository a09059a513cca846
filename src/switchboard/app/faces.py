"""Which face answers which paths, and how each renders an error in its own envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.app.metrics import HttpMetrics, now
from switchboard.app.openapi_security import declare_security
from switchboard.app.request_ids import RequestIds
from switchboard.app.telemetry import FACE
from switchboard.core.domain.errors import DomainError
from switchboard.faces._shared.plain_asgi import PlainFace, openapi_paths

ErrorRenderer = Callable[[DomainError, int], Response]


@dataclass(frozen=True, slots=True)
class FaceMount:
    """A face: FastAPI routes (`router`), a plain ASGI app for a hot path (`plain`), or both (the
    plain app answers its own routes, which the router declares for the OpenAPI document)."""

    name: str
    prefixes: tuple[str, ...]
    render_error: ErrorRenderer
    router: APIRouter | None = None
    plain: PlainFace | None = None
    errors: dict[int | str, Any] = field(default_factory=dict)  # OpenAPI responses of its error statuses


class FaceTable:
    def __init__(self, faces: list[FaceMount], fallback: ErrorRenderer) -> None:
        self.faces = faces
        # longest prefix first, so /api/v1 (AstrBot) wins over /api (native); (prefix, prefix + "/", face)
        self._by_prefix = sorted(
            ((prefix, prefix.rstrip("/") + "/", face) for face in faces for prefix in face.prefixes),
            key=lambda item: -len(item[0]),
        )
        self._fallback = fallback

    def face_for(self, path: str) -> FaceMount | None:
        for prefix, under, face in self._by_prefix:
            if path.startswith(under) or path == prefix:
                return face
        return None

    def renderer_for(self, path: str) -> ErrorRenderer:
        face = self.face_for(path)
        return face.render_error if face is not None else self._fallback


class SwitchboardApp(FastAPI):
    """FastAPI, except that plain faces get their requests before FastAPI's middleware and router
    see them (faces/_shared/plain_asgi says why); their routes still appear in /docs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._table: FaceTable | None = None  # set by serve_plain
        self._plain: dict[str, ASGIApp] = {}  # face name -> its (wrapped) plain app
        self._plain_faces: list[FaceMount] = []
        self._request_ids = RequestIds()
        self.metrics = HttpMetrics()
        self.metrics_endpoint: ASGIApp | None = None  # GET /metrics, outside every face
        self._plain_routes: dict[tuple[str, str], str] = {}  # (method, path) -> route template
        self._plain_prefixes: list[tuple[str, str]] = []  # (path prefix, route template)

    def serve_plain(self, table: FaceTable, wrap: Callable[[ASGIApp], ASGIApp]) -> None:
        """The plain faces of `table` answer their own paths, each app wrapped by `wrap`."""
        self._table = table
        self._plain = {face.name: wrap(face.plain) for face in table.faces if face.plain is not None}
        self._plain_faces = [face for face in table.faces if face.plain is not None]
        for face in self._plain_faces:
            assert face.plain is not None
            for route in face.plain.routes:
                if route.prefix:
                    template = route.doc_path or route.path + "/{rest}"
                    self._plain_prefixes.append((route.path.rstrip("/") + "/", template))
                else:
                    self._plain_routes[(route.method, route.path)] = route.path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().__call__(scope, receive, send)
            return
        if scope["path"] == "/metrics" and self.metrics_endpoint is not None:
            await self.metrics_endpoint(scope, receive, send)
            return
        # every request and socket has an id and is counted, whichever face answers it
        face = self._table.face_for(scope["path"]) if self._table is not None else None
        name, kind = (face.name if face is not None else "app"), scope["type"]
        scope["switchboard.face"] = face
        self.metrics.opened(name, kind)
        started, status, face_token = now(), None, FACE.set(name)  # the label of what the core reports
        try:
            status = await self._request_ids.serve(self._answer, scope, receive, send)
        finally:
            FACE.reset(face_token)
            self.metrics.closed(name, kind, scope, status, now() - started)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        face = scope["switchboard.face"]
        plain = self._plain.get(face.name) if face is not None else None
        if plain is not None and (face.router is None or face.plain.answers(scope)):
            scope["switchboard.route"] = self._plain_template(scope)
            await plain(scope, receive, send)
            return
        answered = False

        async def tracking_send(message: Message) -> None:
            nonlocal answered
            answered = answered or (message["type"] == "http.response.body" and not message.get("more_body"))
            await send(message)

        try:
            await super().__call__(scope, receive, tracking_send)
        except Exception:
            # Starlette re-raises an error after its handler has logged it and sent the 500 in the
            # face's envelope, "so servers can log it"; uvicorn then closes the connection, and a
            # keep-alive client's next request on it fails with ECONNRESET. A whole answer went
            # out, so the connection is sound: only an error in mid-answer must still close it.
            if not answered:
                raise

    def _plain_template(self, scope: Scope) -> str | None:
        path = scope["path"]
        if (template := self._plain_routes.get((scope["method"], path))) is not None:
            return template
        for prefix, template in self._plain_prefixes:
            if path.startswith(prefix):
                return template
        return None

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for face in self._plain_faces:
                assert face.plain is not None
                if face.router is not None:
                    continue  # its plain routes are in its router's part of the document
                document["paths"].update(openapi_paths(face.plain.routes, schemas, face.errors))
            if self._table is not None:
                table = self._table
                declare_security(document, lambda path: (face := table.face_for(path)) and face.name)
        return super().openapi()
