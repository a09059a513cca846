"""The plain ASGI face: routing by dict and prefix, 404/405/500 in the face's envelope, a client
that hangs up before its body, and the body limit's exception left to the middleware."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp

from switchboard.core.domain.errors import DomainError, Forbidden
from switchboard.faces._shared.json_body import UnprocessableBody
from switchboard.faces._shared.plain_asgi import PlainFace, PlainRequest, PlainRoute, openapi_paths


def render(error: DomainError, status: int) -> ASGIApp:
    return Response(orjson.dumps({"oops": error.message, "status": status}), status_code=status)


async def echo(request: PlainRequest) -> ASGIApp:
    header = (request.header(b"x-a") or "").encode()
    return Response(request.path.encode() + b" " + await request.body() + b" " + header)


async def broken(request: PlainRequest) -> ASGIApp:
    raise RuntimeError("a bug with a secret in it")


async def refused(request: PlainRequest) -> ASGIApp:
    raise Forbidden("not you")


async def too_large(request: PlainRequest) -> ASGIApp:
    raise HTTPException(413, "too large")


async def unprocessable(request: PlainRequest) -> ASGIApp:
    raise UnprocessableBody("invalid request: content: too long")


FACE = PlainFace([
    PlainRoute("POST", "/v1/echo", echo), PlainRoute("GET", "/v1/things/", echo, prefix=True),
    PlainRoute("GET", "/v1/broken", broken), PlainRoute("GET", "/v1/refused", refused),
    PlainRoute("POST", "/v1/big", too_large), PlainRoute("POST", "/v1/invalid", unprocessable),
], render)


async def call(method: str, path: str, *messages: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None,
               ) -> tuple[int | None, bytes]:
    inbox = list(messages) or [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers or [], "query_string": b""}
    await FACE(scope, receive, send)  # type: ignore[arg-type]
    status = sent[0]["status"] if sent else None
    return status, b"".join(m.get("body", b"") for m in sent[1:])


async def test_exact_and_prefix_routes_read_headers_and_a_body_in_pieces() -> None:
    pieces = [{"type": "http.request", "body": b"he", "more_body": True},
              {"type": "http.request", "body": b"llo", "more_body": False}]
    assert await call("POST", "/v1/echo", *pieces, headers=[(b"x-a", b"1")]) == (200, b"/v1/echo hello 1")
    assert await call("GET", "/v1/things/a/b") == (200, b"/v1/things/a/b  ")


async def test_unknown_paths_and_methods_are_the_faces_404_and_405() -> None:
    assert await call("GET", "/v1/nothing") == (404, b'{"oops":"no such endpoint: GET /v1/nothing","status":404}')
    assert (await call("GET", "/v1/echo"))[0] == 405
    assert (await call("GET", "/v1/things/"))[0] == 404  # a prefix route needs something after it


async def test_domain_errors_render_and_bugs_are_a_logged_500_without_details(caplog: pytest.LogCaptureFixture,
                                                                             ) -> None:
    assert (await call("GET", "/v1/refused"))[0] == 403
    with caplog.at_level(logging.ERROR):
        status, body = await call("GET", "/v1/broken")
    assert status == 500 and b"secret" not in body and b"Traceback" not in body
    assert "a bug with a secret" in caplog.text  # the details go to the log only


async def test_a_body_that_fails_validation_is_a_422() -> None:
    assert (await call("POST", "/v1/invalid"))[0] == 422


def test_a_face_says_which_requests_its_routes_take() -> None:
    def scope(method: str, path: str) -> dict[str, str]:
        return {"method": method, "path": path}

    assert FACE.answers(scope("POST", "/v1/echo")) and FACE.answers(scope("GET", "/v1/things/a"))  # type: ignore[arg-type]
    assert not FACE.answers(scope("GET", "/v1/echo")) and not FACE.answers(scope("GET", "/v1/other"))  # type: ignore[arg-type]


async def test_a_client_gone_before_its_body_gets_no_answer() -> None:
    assert await call("POST", "/v1/echo", {"type": "http.disconnect"}) == (None, b"")


async def test_the_body_limits_exception_is_left_to_the_middleware_that_raised_it() -> None:
    with pytest.raises(HTTPException):
        await call("POST", "/v1/big")


def test_routes_are_documented_as_openapi_paths() -> None:
    paths = openapi_paths([PlainRoute("GET", "/v1/models/", echo, "One model", prefix=True,
                                      doc_path="/v1/models/{model}")])
    operation = paths["/v1/models/{model}"]["get"]
    assert operation["summary"] == "One model" and operation["parameters"][0]["name"] == "model"
