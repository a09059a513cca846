"""A Switchboard server whose IM platforms an administrator manages through /api/admin/platforms."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.app.container import Runtime
from tests.support.app_settings import ADMIN, app_settings
from tests.support.live_server import LiveServer
from tests.support.onebot_peer import OneBotPeer
from tests.support.upstream import ScriptedUpstream


@dataclass
class Server:
    base_url: str
    runtime: Runtime
    http: httpx.AsyncClient
    admin: dict[str, str]  # the administrator's Authorization header

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/onebot/v11/ws"

    async def call(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {**self.admin, **options.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **options)

    async def state(self, platform_id: str) -> dict[str, Any]:
        data: dict[str, Any] = (await self.call("GET", f"/api/admin/platforms/{platform_id}")).json()["data"]
        return data


StartServer = Callable[..., Awaitable[Server]]


@pytest_asyncio.fixture
async def start_server(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[StartServer]:
    """`server = await start_server(platforms=[...], database_url=...)`: the same arguments start a
    server on the same database again (after `stop`)."""
    running: list[tuple[LiveServer, httpx.AsyncClient]] = []

    async def start(platforms: list[dict[str, Any]] | None = None, **settings: Any) -> Server:
        config = app_settings(tmp_path / "data", upstream, platforms=platforms or [], **settings)
        app = create_app(config)
        live = LiveServer(app)
        base_url = await live.__aenter__()
        http = httpx.AsyncClient(base_url=base_url)
        running.append((live, http))
        login = await http.post("/api/auth/login", json={"username": ADMIN.username, "password": ADMIN.password})
        admin = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        return Server(base_url, app.state.runtime, http, admin)

    yield start
    for live, http in running:
        await http.aclose()
        await live.__aexit__(None, None, None)


@pytest_asyncio.fixture
async def peers() -> AsyncIterator[list[OneBotPeer]]:
    """Peers appended here are closed after the test."""
    made: list[OneBotPeer] = []
    yield made
    for peer in made:
        await peer.close()
