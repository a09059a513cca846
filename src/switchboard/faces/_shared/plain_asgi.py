"""A face served as a plain ASGI app, ahead of FastAPI's middleware and router.

For a hot path such as the OpenAI gateway, FastAPI costs several times what relaying the request
does: every face's routes are matched in turn, then dependency injection, a Request object and
four layers of middleware wrap each call (measured: ~0.5 ms of CPU per request against ~0.1 ms for
the relay itself). Here a route is one dict lookup and a handler reads the raw ASGI messages.

    face = PlainFace([PlainRoute("GET", "/v1/models", list_models, summary="...")], render_error)

A handler takes a PlainRequest and returns any ASGI response (starlette's Response, EventStream).
A DomainError it raises is rendered in the face's own envelope; anything else is logged and
answered with a 500 in that envelope, never a stack trace. `openapi_paths` documents the routes
in the app's /docs as if FastAPI served them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from switchboard.core.domain.errors import DomainError, InvalidInput, NotFound
from switchboard.faces._shared.errors import status_for
from switchboard.faces._shared.json_body import UnprocessableBody

log = logging.getLogger(__name__)

ErrorRenderer = Callable[[DomainError, int], ASGIApp]


class PlainRequest:
    __slots__ = ("receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    def header(self, name: bytes) -> str | None:
        """One header's value (`name` in lower case, as ASGI servers give them)."""
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    async def body(self) -> bytes:
        first = await self.receive()
        if first["type"] == "http.disconnect":
            raise ClientGone
        body: bytes = first.get("body", b"")
        if not first.get("more_body"):
            return body  # the usual case: one message
        chunks = [body]
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)


class ClientGone(Exception):
    """The client hung up before its request was read: there is nobody to answer."""


Handler = Callable[[PlainRequest], Awaitable[ASGIApp]]


@dataclass(frozen=True, slots=True)
class PlainRoute:
    method: str
    path: str  # exact; with `prefix`, every path under it (the rest is the handler's to read)
    handler: Handler
    summary: str = ""
    prefix: bool = False
    doc_path: str = ""  # the OpenAPI spelling of a prefix route, e.g. /v1/models/{model}
    body: type[BaseModel] | None = None  # documents a JSON body
    form: bool = False  # documents a multipart/form-data body
    response: type[BaseModel] | None = None
    tags: tuple[str, ...] = ()


class PlainFace:
    def __init__(self, routes: list[PlainRoute], render_error: ErrorRenderer) -> None:
        self.routes = routes
        self._exact = {(r.method, r.path): r for r in routes if not r.prefix}
        self._prefixed = [r for r in routes if r.prefix]
        self._render = render_error

    def answers(self, scope: Scope) -> bool:
        """Whether a route here takes the request (a face that also has FastAPI routes sends the
        rest there)."""
        return (scope["method"], scope["path"]) in self._exact or self._under_prefix(scope) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._exact.get((scope["method"], scope["path"])) or self._under_prefix(scope)
        try:
            if route is None:
                raise self._no_route(scope)
            response = await route.handler(PlainRequest(scope, receive))
        except DomainError as exc:
            response = self._render(exc, _status(exc))
        except ClientGone:
            return
        except HTTPException:
            raise  # the body limit's 413: the middleware that raised it answers
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            response = self._render(DomainError("internal server error; the details were logged"), 500)
        await response(scope, receive, send)

    def _under_prefix(self, scope: Scope) -> PlainRoute | None:
        method, path = scope["method"], scope["path"]
        for route in self._prefixed:
            if route.method == method and path.startswith(route.path) and len(path) > len(route.path):
                return route
        return None

    def _no_route(self, scope: Scope) -> DomainError:
        method, path = scope["method"], scope["path"]
        if any(_serves(r, path) for r in self.routes):
            return _MethodNotAllowed(f"method {method} is not allowed on {path}")
        return NotFound(f"no such endpoint: {method} {path}")


class _MethodNotAllowed(InvalidInput):
    pass


def _serves(route: PlainRoute, path: str) -> bool:
    return path.startswith(route.path) and len(path) > len(route.path) if route.prefix else path == route.path


def _status(error: DomainError) -> int:
    if isinstance(error, _MethodNotAllowed):
        return 405
    return 422 if isinstance(error, UnprocessableBody) else status_for(error)


REF_TEMPLATE = "#/components/schemas/{model}"


def openapi_paths(routes: list[PlainRoute], components: dict[str, Any] | None = None,
                  errors: dict[int | str, Any] | None = None) -> dict[str, Any]:
    """OpenAPI 3.1 path items for the routes, with the face's `errors` responses. The models' nested
    schemas are added to `components` (the document's components.schemas), where their `$ref`s point."""
    paths: dict[str, Any] = {}
    components = {} if components is None else components

    def schema_of(model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE)
        components.update(schema.pop("$defs", {}))
        return schema

    for route in routes:
        path = route.doc_path or route.path
        operation: dict[str, Any] = {"summary": route.summary, "tags": list(route.tags),
                                     "operationId": f"{route.method.lower()}_{path.strip('/').replace('/', '_')}"}
        params = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
        if params:
            operation["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                       for p in params]
        if route.body is not None or route.form:
            media = "multipart/form-data" if route.form else "application/json"
            schema = schema_of(route.body) if route.body is not None else {"type": "object"}
            operation["requestBody"] = {"required": True, "content": {media: {"schema": schema}}}
        answer: dict[str, Any] = {"description": "the provider's answer, relayed"}
        if route.response is not None:
            answer = {"description": "OK", "content": {"application/json": {"schema": schema_of(route.response)}}}
        operation["responses"] = {"200": answer, **{str(k): v for k, v in (errors or {}).items()}}
        paths.setdefault(path, {})[route.method.lower()] = operation
    return paths
