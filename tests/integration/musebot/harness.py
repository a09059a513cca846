"""The whole app on a real uvicorn server for MuseBot's API, its models served by the scripted upstream."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.config.settings import MediaSettings, Settings
from tests.support.app_settings import ADMIN, MODEL, app_settings
from tests.support.live_server import LiveServer
from tests.support.upstream import ScriptedUpstream

OTHER = "gpt-other"


def musebot_settings(data_dir: Path, upstream: ScriptedUpstream, **overrides: Any) -> Settings:
    upstream.models = [MODEL, OTHER]
    overrides.setdefault("media", MediaSettings(video_poll_seconds=0.01))
    return app_settings(data_dir, upstream, models=[MODEL, OTHER], **overrides)


@dataclass
class Muse:
    """An httpx client on the live server; `keys` holds an API key per user ("admin" has the admin scope)."""

    client: httpx.AsyncClient
    keys: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"} if who else {}

    async def key(self, username: str, password: str = "password1", *, admin: bool = False) -> str:
        if not admin:
            registered = await self.client.post("/api/auth/register", json={"username": username, "password": password})
            assert registered.status_code == 201, registered.text
        login = await self.client.post("/api/auth/login", json={"username": username, "password": password})
        token = login.json()["data"]["access_token"]
        scopes = ["chat", "file", "admin"] if admin else ["chat", "file"]
        created = await self.client.post("/api/keys", json={"name": "musebot", "scopes": scopes},
                                         headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        self.keys[username] = created.json()["data"]["key"]
        return self.keys[username]

    async def say(self, prompt: str, user_id: str = "1001", *, body: bytes = b"", who: str | None = "admin",
                  path: str = "/communicate") -> httpx.Response:
        return await self.client.post(path, params={"prompt": prompt, "user_id": user_id}, content=body,
                                      headers={"Content-Type": "application/octet-stream", **self.auth(who)})

    async def get(self, path: str, who: str | None = "admin", **params: Any) -> dict[str, Any]:
        response = await self.client.get(path, params=params, headers=self.auth(who))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def post(self, path: str, who: str | None = "admin", *, json: Any = None, data: Any = None,
                   **params: Any) -> dict[str, Any]:
        response = await self.client.post(path, params=params, json=json, data=data, headers=self.auth(who))
        assert response.status_code == 200, response.text
        return dict(response.json())


Start = Callable[..., Awaitable[Muse]]


@pytest_asyncio.fixture
async def start_musebot(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[Start]:
    """`muse = await start_musebot(**settings_overrides)`: a fresh app, the admin's key in `muse.keys`."""
    apps = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(data_dir: Path | None = None, **overrides: Any) -> Muse:
            settings = musebot_settings(data_dir or tmp_path / f"app{next(apps)}", upstream, **overrides)
            base_url = await stack.enter_async_context(LiveServer(create_app(settings)))
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30))
            muse = Muse(client)
            await muse.key(ADMIN.username, ADMIN.password, admin=True)
            return muse

        yield start


@pytest_asyncio.fixture
async def muse(start_musebot: Start) -> Muse:
    return await start_musebot()
