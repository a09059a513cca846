"""Two apps (two workers) on one database and one Redis, credentials cached for a minute: a logout,
a revoked key or a changed setting on one holds on the other at once (the change feed), not when
the other's copy expires."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import websockets

from switchboard.config.settings import PasswordSettings, Settings
from tests.integration.native.conftest import Api
from tests.support.app_settings import app_settings
from tests.support.mcp_servers import TEST_SERVER_SCRIPT
from tests.support.upstream import ScriptedUpstream

WITHIN_SECONDS = 5.0  # a generous bound for a loaded CI machine; it takes milliseconds


async def soon(condition: Callable[[], Awaitable[bool]]) -> None:
    """Polls the other worker's API: the change reaches it over Redis, and only its answers show it."""
    async with asyncio.timeout(WITHIN_SECONDS):
        while not await condition():  # noqa: ASYNC110 - nothing in this process to wait on
            await asyncio.sleep(0.02)


@pytest.fixture
def two_workers_settings(tmp_path: Path, upstream: ScriptedUpstream, redis_url: str) -> Settings:
    """As `serve` builds them (the principal cache included), on one data directory: one database
    and one signing secret, as two hosts share them."""
    return app_settings(tmp_path / "shared", upstream, redis_url=redis_url, auth_cache_seconds=60,
                        passwords=PasswordSettings(time_cost=1, memory_cost_kib=1024, parallelism=1))


async def test_a_logout_on_one_worker_ends_the_session_on_the_other(two_workers: tuple[Api, Api]) -> None:
    one, two = two_workers
    await one.user("alice")
    two.tokens["alice"] = one.tokens["alice"]
    assert (await two.client.get("/api/conversations/", headers=two.auth("alice"))).status_code == 200  # cached on two

    assert (await one.client.post("/api/auth/logout", headers=one.auth("alice"))).status_code == 200

    async def refused() -> bool:
        return (await two.client.get("/api/conversations/", headers=two.auth("alice"))).status_code == 401
    await soon(refused)


async def test_a_key_revoked_on_one_worker_is_refused_on_the_other(two_workers: tuple[Api, Api]) -> None:
    one, two = two_workers
    await one.user("alice")
    created = (await one.client.post("/api/keys", json={"name": "script"}, headers=one.auth("alice"))).json()["data"]
    by_key = {"Authorization": f"Bearer {created['key']}"}
    assert (await two.client.get("/api/conversations/", headers=by_key)).status_code == 200

    revoked = await one.client.delete(f"/api/keys/{created['id']}", headers=one.auth("alice"))
    assert revoked.status_code in (200, 204), revoked.text

    async def refused() -> bool:
        return (await two.client.get("/api/conversations/", headers=by_key)).status_code == 401
    await soon(refused)


async def test_a_setting_changed_on_one_worker_applies_on_the_other(two_workers: tuple[Api, Api]) -> None:
    one, two = two_workers
    closed = await one.client.put("/api/admin/settings", json={"registration": "closed"}, headers=one.auth("admin"))
    assert closed.status_code == 200, closed.text

    async def registration_closed() -> bool:
        assert two.runtime is not None
        return two.runtime.services.runtime_config.current.base.registration == "closed"
    await soon(registration_closed)
    refused = await two.client.post("/api/auth/register", json={"username": "mallory", "password": "password1"})
    assert refused.status_code == 403


async def test_an_mcp_server_added_and_removed_on_one_worker_follows_on_the_other(
        two_workers: tuple[Api, Api]) -> None:
    one, two = two_workers
    entry = {"command": sys.executable, "args": [str(TEST_SERVER_SCRIPT), "stdio"]}
    saved = await one.client.put("/api/admin/mcp/shared", json=entry, headers=one.auth("admin"))
    assert saved.status_code == 200, saved.text

    async def names_on_two() -> set[str]:
        listed = await two.client.get("/api/admin/mcp", headers=two.auth("admin"))
        return {server["name"] for server in listed.json()["data"]}

    async def started() -> bool:
        return "shared" in await names_on_two()
    await soon(started)

    assert (await one.client.delete("/api/admin/mcp/shared", headers=one.auth("admin"))).status_code in (200, 204)

    async def stopped() -> bool:
        return "shared" not in await names_on_two()
    await soon(stopped)


async def test_an_im_platform_added_and_removed_on_one_worker_follows_on_the_other(
        two_workers: tuple[Api, Api]) -> None:
    one, two = two_workers
    entry = {"id": "qq", "type": "onebot11", "mode": "reverse", "access_token": "s3cret"}
    added = await one.client.post("/api/admin/platforms", json=entry, headers=one.auth("admin"))
    assert added.status_code in (200, 201), added.text

    async def ids_on_two() -> set[str]:
        listed = await two.client.get("/api/admin/platforms", headers=two.auth("admin"))
        return {platform["id"] for platform in listed.json()["data"]}

    async def added_there() -> bool:
        return "qq" in await ids_on_two()
    await soon(added_there)

    assert (await one.client.delete("/api/admin/platforms/qq", headers=one.auth("admin"))).status_code in (200, 204)

    async def removed_there() -> bool:
        return "qq" not in await ids_on_two()
    await soon(removed_there)


async def test_an_astrbot_socket_on_one_worker_gets_a_message_posted_to_the_other(
        two_workers: tuple[Api, Api]) -> None:
    """AstrBot's proactive im/message into a webchat session reaches that session's socket
    wherever it is open: the push crosses workers over Redis."""
    one, two = two_workers
    await one.user("alice")
    created = await one.client.post("/api/keys", json={"name": "bot", "scopes": ["chat", "im"]},
                                    headers=one.auth("alice"))
    assert created.status_code == 201, created.text
    key = created.json()["data"]["key"]
    url = str(one.client.base_url).replace("http://", "ws://") + f"/api/v1/chat/ws?api_key={key}&session_id=probe"
    async with websockets.connect(url) as socket:
        await socket.send(json.dumps({"t": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "pong"}  # subscribed on one

        sent = await two.client.post("/api/v1/im/message", headers={"X-API-Key": key}, json={
            "umo": "webchat:FriendMessage:probe", "message": [{"type": "plain", "text": "from the other worker"}]})
        assert sent.json()["status"] == "ok", sent.text

        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert (frame["type"], frame["data"], frame["session_id"]) == ("plain", "from the other worker", "probe")
