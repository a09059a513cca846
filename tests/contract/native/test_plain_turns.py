"""POST /api/messages[/] and /api/messages/stream are answered by plain ASGI routes ahead of FastAPI
(faces/native/turns.py), which still declares them. Every bad request gets the same answer from
both: the same status, envelope and message, in FastAPI's order (unparsable JSON before the
credential, the credential before the fields)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from tests.contract.native.conftest import MAX_BODY, Native

pytestmark = pytest.mark.asyncio(loop_scope="module")

JSON = "application/json"
GOOD = b'{"conversation_id": "no-such-conversation", "content": "hi"}'
# (content-type, body, credential): None for none; "good", "bad" or "unscoped" for the credential
CASES: list[tuple[str | None, bytes, str | None]] = [
    (JSON, GOOD, None),
    (JSON, GOOD, "bad"),
    (JSON, GOOD, "unscoped"),
    (JSON, b'{"conversation_id": ', "good"),
    (JSON, b'{"conversation_id": ', None),
    (JSON, b'{"content": 5}', None),
    (JSON, b'{"content": 5}', "good"),
    (JSON, b'{"conversation_id": "", "images": "x", "regenerate": []}', "good"),
    (JSON, b"", "good"),
    (JSON, b"[]", "good"),
    (JSON, b"null", "good"),
    (JSON, b'{"conversation_id": NaN}', "good"),
    (JSON, b'{"conversation_id": "c", "edit_message_id": 99999999999999999999999}', "good"),
    (JSON, b"\xff\xfe\xfa", "good"),
    ("text/plain", GOOD, "good"),
    (None, GOOD, "good"),
    ("application/vnd.api+json; charset=utf-8", GOOD, "good"),
    ("Application/JSON", GOOD, "good"),
    (JSON, GOOD, "good"),  # the unknown conversation: the service's 404
]


@pytest.fixture
def native(shared_native: Native) -> Native:
    return shared_native


def fastapi_only(app: FastAPI) -> Callable[[Scope, Receive, Send], Any]:
    """The app as FastAPI alone serves it: its router, middleware and exception handlers."""
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return serve


async def unscoped_key(native: Native) -> str:
    created = await native.client.post("/api/keys", json={"name": "files only", "scopes": ["file"]},
                                       headers=native.auth("alice"))
    assert created.status_code in (200, 201), created.text
    return str(created.json()["data"]["key"])


@pytest.mark.parametrize("path", ["/api/messages", "/api/messages/", "/api/messages/stream"])
async def test_bad_requests_are_answered_as_fastapi_answers_them(native: Native, path: str) -> None:
    credentials = {"good": native.auth("alice")["Authorization"], "bad": "Bearer not-a-token",
                   "unscoped": f"Bearer {await unscoped_key(native)}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fastapi_only(native.app)),
                                 base_url="http://testserver") as by_fastapi:
        for content_type, body, credential in CASES:
            headers = {"content-type": content_type} if content_type else {}
            if credential is not None:
                headers["authorization"] = credentials[credential]
            plain = await native.client.post(path, content=body, headers=headers)
            expected = await by_fastapi.post(path, content=body, headers=headers)
            case = (content_type, body, credential)
            assert plain.status_code == expected.status_code, case
            assert plain.json() == expected.json(), case
            assert plain.headers["content-type"] == expected.headers["content-type"], case
            assert plain.status_code >= 400, case


@pytest.mark.parametrize("path", ["/api/messages", "/api/messages/", "/api/messages/stream"])
@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_over_the_limit_is_the_same_413(native: Native, path: str, chunked: bool) -> None:
    huge = b'{"conversation_id": "c", "content": "' + b"x" * (MAX_BODY + 1) + b'"}'

    def body() -> bytes | AsyncIterator[bytes]:
        if not chunked:
            return huge

        async def pieces() -> AsyncIterator[bytes]:  # no Content-Length: the limit counts as it reads
            for start in range(0, len(huge), 1024):
                yield huge[start:start + 1024]

        return pieces()

    headers = {**native.auth("alice"), "content-type": JSON}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fastapi_only(native.app)),
                                 base_url="http://testserver") as by_fastapi:
        plain = await native.client.post(path, content=body(), headers=headers)
        expected = await by_fastapi.post(path, content=body(), headers=headers)
    assert plain.status_code == expected.status_code == 413
    assert plain.json() == expected.json()
    assert plain.json()["code"] == "too_large"


async def test_a_client_gone_before_its_body_is_answered_nothing(native: Native) -> None:
    headers = [(b"authorization", native.auth("alice")["Authorization"].encode()), (b"content-type", JSON.encode())]
    inbox: list[dict[str, Any]] = [{"type": "http.request", "body": b'{"conversation_id": ', "more_body": True},
                                   {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/messages/stream", "raw_path": b"/api/messages/stream",
             "headers": headers, "query_string": b"", "http_version": "1.1", "scheme": "http",
             "client": ("127.0.0.1", 1), "server": ("testserver", 80), "root_path": ""}
    await native.app(scope, receive, send)  # type: ignore[arg-type]
    assert sent == []
