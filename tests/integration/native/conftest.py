"""The whole app on a real uvicorn server, its models served by the scripted upstream."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest_asyncio

from switchboard.app.container import Runtime
from switchboard.config.settings import Settings
from tests.contract.native.conftest import fast_app
from tests.support.app_settings import ADMIN, app_settings
from tests.support.live_server import LiveServer
from tests.support.upstream import ScriptedUpstream


def native_settings(data_dir: Path, upstream: ScriptedUpstream, **overrides: Any) -> Settings:
    return app_settings(data_dir, upstream, max_retries=1, **overrides)


@dataclass
class Api:
    """An httpx client on the live server, with the few steps every test repeats."""

    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    runtime: Runtime | None = None  # the app's services and database, for what no API shows

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def login(self, username: str, password: str) -> str:
        response = await self.client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.tokens[username] = response.json()["data"]["access_token"]
        return self.tokens[username]

    async def user(self, username: str, password: str = "password1") -> int:
        response = await self.client.post("/api/auth/register", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        await self.login(username, password)
        return int(response.json()["data"]["id"])

    async def conversation(self, who: str, **body: Any) -> str:
        response = await self.client.post("/api/conversations/", json=body, headers=self.auth(who))
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    async def messages(self, who: str, conversation_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/messages/{conversation_id}", headers=self.auth(who))
        assert response.status_code == 200, response.text
        return list(response.json()["data"])


Start = Callable[..., Awaitable[Api]]


@pytest_asyncio.fixture
async def start_native(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[Start]:
    """`api = await start_native(**settings_overrides)`: a fresh app and data dir, the admin logged in."""
    apps = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Api:
            app = fast_app(native_settings(tmp_path / f"app{next(apps)}", upstream, **overrides))
            base_url = await stack.enter_async_context(LiveServer(app))
            api = Api(await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30)),
                      runtime=app.state.runtime)
            await api.login(ADMIN.username, ADMIN.password)
            return api

        yield start


def parse_sse(raw: str) -> list[tuple[str, Any]]:
    """SSE text -> [(event name, parsed data)], with comments as ("comment", text)."""
    frames: list[tuple[str, Any]] = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith(":"):
                frames.append(("comment", line[1:].strip()))
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            frames.append((name, orjson.loads("\n".join(data))))
    return frames
