"""Inputs that used to end in a 500 (item 6 of issue 19), through the live server: integers past
64 bits, NUL characters on both databases, wrong types in Mio-Chat's login, a provider's 404 on the
ChatGPT proxy's image route; and a 500 that does happen leaves the keep-alive connection usable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from switchboard.app.asgi import create_app
from switchboard.app.container import build_runtime
from tests.integration.native.conftest import ADMIN, native_settings
from tests.support.live_server import LiveServer
from tests.support.upstream import Reply, ScriptedUpstream

TOO_BIG = 2**63  # one past the databases' 64-bit integers


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/api/conversations?page={TOO_BIG}"),
    ("GET", "/api/conversations?page=10000000000"),
    ("DELETE", f"/api/messages/{TOO_BIG}"),
    ("GET", f"/api/admin/users/{TOO_BIG}"),
    ("GET", f"/api/admin/users?page={TOO_BIG}"),
    ("GET", f"/api/admin/usage?user_id={TOO_BIG}"),
    ("GET", f"/openai/image/file/{TOO_BIG}/x.png"),
])
async def test_integers_past_64_bits_are_refused_in_the_envelope(start_native: Any, method: str, path: str) -> None:
    api = await start_native()
    response = await api.client.request(method, path, headers=api.auth("admin"))
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")


async def test_musebot_paging_past_64_bits_is_clamped(start_native: Any) -> None:
    """MuseBot never refuses paging (issue 17): past Switchboard's largest page, the largest page."""
    api = await start_native()
    key = (await api.client.post("/api/keys", json={"scopes": ["chat", "admin"]}, headers=api.auth("admin"))
           ).json()["data"]["key"]
    response = await api.client.get(f"/record/list?page={TOO_BIG}&page_size=-{TOO_BIG}",
                                    headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and response.json()["code"] == 0
    assert response.json()["data"] == {"list": [], "total": 0}


async def test_a_nul_character_is_refused_on_either_database(start_native: Any, database_url: str) -> None:
    api = await start_native(database_url=database_url)
    before = (await api.client.get("/api/conversations", headers=api.auth("admin"))).json()["data"]["total"]
    response = await api.client.post("/api/conversations/", json={"title": "a\u0000b"}, headers=api.auth("admin"))
    search = await api.client.get("/api/admin/users?q=x%00", headers=api.auth("admin"))
    after = (await api.client.get("/api/conversations", headers=api.auth("admin"))).json()["data"]["total"]
    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "text must not contain NUL characters (U+0000)",
                               "code": "invalid_input"}
    assert search.status_code == 400
    assert after == before  # nothing half-written


@pytest.mark.parametrize("data", [
    {"mio-chat-id": ["a"], "mio-chat-token": "x"},
    {"mio-chat-id": "a", "mio-chat-token": {"not": "a string"}},
    {"mio-chat-id": 1.5, "mio-chat-token": 3},
])
async def test_miochat_login_with_wrong_types_answers_in_its_envelope(start_native: Any, data: Any) -> None:
    api = await start_native()
    response = await api.client.post("/api/system/login", json={"request_id": 7, "data": data})
    assert response.status_code == 422
    body = response.json()
    assert body["request_id"] == 7 and body["code"] == 1 and body["message"] == "failed"


async def test_a_providers_404_on_the_proxy_image_route_stays_404(
    start_native: Any, upstream: ScriptedUpstream,
) -> None:
    api = await start_native()
    key = (await api.client.post("/api/keys", json={"scopes": ["chat"]}, headers=api.auth("admin"))
           ).json()["data"]["key"]
    upstream.push(Reply(status=404, json_body={"error": {"message": "no such model", "code": "model_not_found"}}),
                  path="/v1/images/generations")
    response = await api.client.post("/openai/image", json={"prompt": "an otter"},
                                     headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404
    assert response.json()["code"] == 404 and response.json()["data"] is None


class BrokenTools:
    """A tools service that fails the way an unforeseen bug would."""

    async def list(self, *_: Any) -> Any:
        raise RuntimeError("a bug")


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    return status, head + await asyncio.wait_for(reader.readexactly(length), 10)


async def test_after_a_500_the_keep_alive_connection_still_answers(tmp_path: Path, upstream: ScriptedUpstream) -> None:
    settings = native_settings(tmp_path, upstream)
    runtime = build_runtime(settings)
    runtime.services.tool_service = BrokenTools()  # type: ignore[assignment]
    async with LiveServer(create_app(settings, runtime)) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            login = (b'{"username": "%s", "password": "%s"}' % (ADMIN.username.encode(), ADMIN.password.encode()))
            _, answer = await _exchange(reader, writer, b"POST /api/auth/login HTTP/1.1\r\nHost: t\r\n"
                                        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                                        % (len(login), login))
            token = answer.split(b'"access_token":"')[1].split(b'"')[0]
            failed, body = await _exchange(reader, writer, b"GET /api/tools HTTP/1.1\r\nHost: t\r\n"
                                           b"Authorization: Bearer %s\r\n\r\n" % token)
            again, _ = await _exchange(reader, writer, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        finally:
            writer.close()
    assert failed == 500 and b'"success":false' in body and b"a bug" not in body
    assert again == 200  # same connection: no ECONNRESET
