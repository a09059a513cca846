"""One app on a real uvicorn server for the scope tests (HTTP on every face, and its WebSockets),
with the admin, alice and bob signed in, and keys made through POST /api/keys as clients make them.

    scoped    a module-wide app (the outcome table walks ~100 operations with 6 keys: one app
              keeps it fast); its tests must not change what the others rely on
    fresh     an app per test, for the attacks that change keys
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.contract.native.conftest import ADMIN, contract_settings, fast_app
from tests.support.live_server import LiveServer

SCOPES = ("chat", "file", "config", "im", "admin", "keys")


@dataclass
class Server:
    base_url: str
    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)  # who -> JWT
    ids: dict[str, int] = field(default_factory=dict)  # who -> user id

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    @property
    def ws_base(self) -> str:
        return self.base_url.replace("http://", "ws://")

    async def key(self, who: str, **body: Any) -> dict[str, Any]:
        """A key of `who`, made with their login; the answer's data (with `key`, the secret)."""
        made = await self.client.post("/api/keys", json={"name": "test", **body}, headers=self.auth(who))
        assert made.status_code == 201, made.text
        return dict(made.json()["data"])


async def _login(server: Server, username: str, password: str) -> None:
    response = await server.client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    server.tokens[username] = response.json()["data"]["access_token"]
    server.ids[username] = response.json()["data"]["user"]["id"]


@contextlib.asynccontextmanager
async def open_server(data_dir: Path, **settings: Any) -> AsyncIterator[Server]:
    async with LiveServer(fast_app(contract_settings(data_dir, **settings))) as base_url, httpx.AsyncClient(
        base_url=base_url, timeout=30
    ) as client:
        server = Server(base_url, client)
        await _login(server, ADMIN.username, ADMIN.password)
        for name in ("alice", "bob"):
            registered = await client.post("/api/auth/register", json={"username": name, "password": "password1"})
            assert registered.status_code == 201, registered.text
            await _login(server, name, "password1")
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scoped(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with open_server(tmp_path_factory.mktemp("scopes")) as server:
        yield server


@pytest_asyncio.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[Server]:
    async with open_server(tmp_path) as server:
        yield server
