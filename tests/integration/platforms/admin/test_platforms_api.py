"""/api/admin/platforms: an administrator adds, edits, disables, enables and deletes IM platforms
while the server runs; each change takes effect at once (connections opened and closed) and is
saved; secrets never come back."""

from __future__ import annotations

import pytest
import websockets

from tests.integration.platforms.admin.conftest import Server, StartServer
from tests.support.fakes import eventually
from tests.support.onebot_peer import OneBotPeer
from tests.support.telegram_api import TOKEN as TELEGRAM_TOKEN
from tests.support.telegram_api import FakeBotApi

QQ = {"id": "qq", "type": "onebot11", "mode": "reverse", "access_token": "tok-1"}


async def connect(server: Server, peers: list[OneBotPeer], token: str, self_id: int = 10000) -> OneBotPeer:
    peer = OneBotPeer(self_id)
    await peer.connect(server.ws_url, token=token)
    peers.append(peer)
    await peer.lifecycle()
    await eventually(lambda: str(self_id) in str(server.runtime.services.proactive.bots()), within=10)
    return peer


async def refused(server: Server, token: str) -> int:
    with pytest.raises(websockets.InvalidStatus) as caught:
        await OneBotPeer().connect(server.ws_url, token=token)
    return caught.value.response.status_code


async def test_a_reverse_platform_added_at_runtime_takes_connections(start_server: StartServer,
                                                                    peers: list[OneBotPeer]) -> None:
    server = await start_server()
    assert await refused(server, "tok-1") == 401  # nothing configured yet
    added = await server.call("POST", "/api/admin/platforms", json=QQ)
    assert added.status_code == 201 and "tok-1" not in added.text
    assert added.json()["data"]["settings"]["access_token"] == "***"
    await connect(server, peers, "tok-1")
    state = await server.state("qq")
    assert (state["status"], state["running"]) == ("connected", True)
    assert state["accounts"] == [{"id": "10000", "online": True}]
    assert await refused(server, "wrong") == 401
    again = await server.call("POST", "/api/admin/platforms", json=QQ)
    assert again.status_code == 409 and again.json()["success"] is False
    listed = await server.call("GET", "/api/admin/platforms")
    assert [p["id"] for p in listed.json()["data"]] == ["qq"] and "tok-1" not in listed.text


async def test_an_edit_restarts_the_platform_and_a_masked_secret_keeps_the_saved_one(
        start_server: StartServer, peers: list[OneBotPeer]) -> None:
    server = await start_server(platforms=[QQ])
    first = await connect(server, peers, "tok-1")
    edited = {**(await server.state("qq"))["settings"], "wake_words": ["/ai"]}
    assert edited["access_token"] == "***"
    saved = await server.call("PUT", "/api/admin/platforms/qq", json=edited)
    assert saved.status_code == 200 and saved.json()["data"]["settings"]["wake_words"] == ["/ai"]
    await first.wait_closed()  # restarted: its connections were closed
    await connect(server, peers, "tok-1")  # the secret was kept
    assert server.runtime.platforms is not None
    assert server.runtime.platforms.entries()["qq"].access_token == "tok-1"
    changed = await server.call("PUT", "/api/admin/platforms/qq", json={**edited, "access_token": "tok-2"})
    assert changed.status_code == 200 and "tok-2" not in changed.text
    assert await refused(server, "tok-1") == 401
    await connect(server, peers, "tok-2", self_id=10001)


async def test_disabling_closes_the_connections_and_enabling_takes_them_again(
        start_server: StartServer, peers: list[OneBotPeer]) -> None:
    server = await start_server(platforms=[QQ])
    peer = await connect(server, peers, "tok-1")
    disabled = await server.call("POST", "/api/admin/platforms/qq/disable")
    assert disabled.json()["data"]["status"] == "disabled"
    assert disabled.json()["data"]["settings"]["enabled"] is False
    await peer.wait_closed()
    assert await refused(server, "tok-1") == 401
    enabled = await server.call("POST", "/api/admin/platforms/qq/enable")
    assert enabled.json()["data"]["settings"]["enabled"] is True
    await connect(server, peers, "tok-1")


async def test_deleting_stops_the_platform(start_server: StartServer, peers: list[OneBotPeer]) -> None:
    server = await start_server(platforms=[QQ])
    peer = await connect(server, peers, "tok-1")
    deleted = await server.call("DELETE", "/api/admin/platforms/qq")
    assert deleted.status_code == 200
    await peer.wait_closed()
    assert await refused(server, "tok-1") == 401
    assert (await server.call("GET", "/api/admin/platforms")).json()["data"] == []
    assert (await server.call("GET", "/api/admin/platforms/qq")).status_code == 404


async def test_a_telegram_bot_added_at_runtime_polls_and_its_token_is_masked(start_server: StartServer) -> None:
    api = await FakeBotApi().start()
    try:
        server = await start_server()
        added = await server.call("POST", "/api/admin/platforms", json={
            "id": "tg", "type": "telegram", "token": TELEGRAM_TOKEN, "api_base": api.base_url,
            "poll_timeout_seconds": 1})
        assert added.status_code == 201 and TELEGRAM_TOKEN not in added.text
        await api.wait_calls(1, "getUpdates")
        assert (await server.state("tg"))["status"] == "connected"
        await server.call("POST", "/api/admin/platforms/tg/disable")
        assert (await server.state("tg"))["status"] == "disabled"
    finally:
        await api.stop()


async def test_a_platform_that_cannot_connect_is_reported_and_the_server_keeps_serving(
        start_server: StartServer) -> None:
    server = await start_server()
    added = await server.call("POST", "/api/admin/platforms", json={
        "id": "far", "type": "onebot11", "mode": "forward", "url": "ws://127.0.0.1:9/",
        "reconnect_initial_seconds": 30})
    assert added.status_code == 201
    await eventually(lambda: server.runtime.services.proactive.bots()[0].status == "retrying", within=10)
    state = await server.state("far")
    assert state["running"] is False and "retrying in 30 s" in state["detail"]
    assert (await server.http.get("/healthz")).status_code == 200
    assert (await server.call("GET", "/api/admin/platforms")).status_code == 200


async def test_changes_are_saved_and_win_over_the_config_file(start_server: StartServer, database_url: str) -> None:
    far = {"id": "far", "type": "onebot11", "mode": "forward", "url": "ws://127.0.0.1:9/",
           "reconnect_initial_seconds": 30}
    first = await start_server(platforms=[QQ, far], database_url=database_url)
    await first.call("PUT", "/api/admin/platforms/qq", json={**QQ, "access_token": "tok-new"})
    await first.call("DELETE", "/api/admin/platforms/far")
    await first.call("POST", "/api/admin/platforms", json={**QQ, "id": "qq2", "enabled": False})
    again = await start_server(platforms=[QQ, far], database_url=database_url)
    listed = {p["id"]: p for p in (await again.call("GET", "/api/admin/platforms")).json()["data"]}
    assert sorted(listed) == ["qq", "qq2"] and listed["qq2"]["status"] == "disabled"
    assert again.runtime.platforms is not None
    assert again.runtime.platforms.entries()["qq"].access_token == "tok-new"
