"""/api/admin/platforms refuses what it must, in the native envelope, and changes nothing then."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.platforms.admin.conftest import StartServer

QQ = {"id": "qq", "type": "onebot11", "access_token": "tok-1"}


def refusal(body: dict[str, Any]) -> bool:
    return body["success"] is False and bool(body["message"])


async def test_only_administrators_may_see_or_change_platforms(start_server: StartServer) -> None:
    server = await start_server(platforms=[QQ])
    await server.http.post("/api/auth/register", json={"username": "carol", "password": "password1"})
    login = await server.http.post("/api/auth/login", json={"username": "carol", "password": "password1"})
    carol = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    for method, path, body in [
        ("GET", "/api/admin/platforms", None), ("POST", "/api/admin/platforms", QQ),
        ("PUT", "/api/admin/platforms/qq", QQ), ("POST", "/api/admin/platforms/qq/disable", None),
        ("DELETE", "/api/admin/platforms/qq", None),
    ]:
        for headers, status in ((carol, 403), ({}, 401)):
            response = await server.http.request(method, path, json=body, headers=headers)
            assert response.status_code == status and refusal(response.json()), (method, path)
    assert (await server.state("qq"))["status"] != "disabled"


@pytest.mark.parametrize("body", [
    {"id": "x", "type": "irc"},
    {"id": "bad id!", "type": "onebot11"},
    {"id": "x", "type": "onebot11", "mode": "forward"},  # forward needs a url
    {"id": "x", "type": "telegram"},  # no token
    {"id": "x", "type": "onebot11", "surprise": 1},
    ["not", "an", "object"],
])
async def test_a_malformed_platform_is_a_422(start_server: StartServer, body: Any) -> None:
    server = await start_server()
    response = await server.call("POST", "/api/admin/platforms", json=body)
    assert response.status_code == 422 and refusal(response.json())
    assert (await server.call("GET", "/api/admin/platforms")).json()["data"] == []


async def test_a_body_that_is_not_json_is_a_422(start_server: StartServer) -> None:
    server = await start_server()
    response = await server.call("POST", "/api/admin/platforms", content=b"{not json",
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and refusal(response.json())


async def test_a_masked_secret_cannot_make_a_platform(start_server: StartServer) -> None:
    server = await start_server(platforms=[QQ])
    added = await server.call("POST", "/api/admin/platforms", json={**QQ, "id": "qq2", "access_token": "***"})
    assert added.status_code == 400 and refusal(added.json())  # well-formed, but not a secret
    to_telegram = await server.call("PUT", "/api/admin/platforms/qq", json={"id": "qq", "type": "telegram",
                                                                            "token": "***"})
    assert to_telegram.status_code == 400 and refusal(to_telegram.json())


async def test_an_edit_must_name_the_platform_it_edits(start_server: StartServer) -> None:
    server = await start_server(platforms=[QQ])
    response = await server.call("PUT", "/api/admin/platforms/qq", json={**QQ, "id": "other"})
    assert response.status_code == 400 and refusal(response.json())


async def test_an_unknown_platform_is_a_404(start_server: StartServer) -> None:
    server = await start_server(platforms=[QQ])
    for method, path, body in [("GET", "/api/admin/platforms/nope", None), ("PUT", "/api/admin/platforms/nope",
                                                                            {**QQ, "id": "nope"}),
                               ("POST", "/api/admin/platforms/nope/enable", None),
                               ("POST", "/api/admin/platforms/nope/disable", None),
                               ("DELETE", "/api/admin/platforms/nope", None)]:
        response = await server.call(method, path, json=body)
        assert response.status_code == 404 and refusal(response.json()), (method, path)


async def test_an_oversize_body_is_a_413(start_server: StartServer) -> None:
    server = await start_server()
    huge = {**QQ, "wake_words": ["x" * 1000] * 3000}  # 3 MB, over limits.max_body_bytes
    response = await server.call("POST", "/api/admin/platforms", json=huge)
    assert response.status_code == 413 and refusal(response.json())
    assert (await server.call("GET", "/api/admin/platforms")).json()["data"] == []
