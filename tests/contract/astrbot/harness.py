"""The whole app on a real uvicorn server (models served by the scripted upstream), with users and
API keys made through the native API, and helpers to speak AstrBot's Open API to it."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.config.settings import Settings
from tests.support.app_settings import ADMIN, MODEL, app_settings
from tests.support.live_server import LiveServer
from tests.support.upstream import ScriptedUpstream

ALL_SCOPES = ["chat", "file", "config", "im"]


def astrbot_settings(data_dir: Path, upstream: ScriptedUpstream, **overrides: Any) -> Settings:
    return app_settings(data_dir, upstream, models=[MODEL, "gpt-other"], **overrides)


@dataclass
class Astr:
    """An httpx client on the live server; `keys[name]` is an API key of that user."""

    client: httpx.AsyncClient
    base_url: str
    keys: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    app: Any = None  # the FastAPI app; app.state.runtime reaches the services and the database

    def auth(self, who: str = "alice") -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}

    async def login(self, username: str, password: str) -> str:
        response = await self.client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.tokens[username] = response.json()["data"]["access_token"]
        return self.tokens[username]

    async def key(self, owner: str, scopes: list[str] | None = None, name: str | None = None,
                  expires_days: int | None = None) -> str:
        body: dict[str, Any] = {"name": name or owner, "scopes": scopes or ALL_SCOPES}
        if expires_days:
            body["expires_days"] = expires_days
        created = await self.client.post("/api/keys", json=body,
                                         headers={"Authorization": f"Bearer {self.tokens[owner]}"})
        assert created.status_code == 201, created.text
        return str(created.json()["data"]["key"])

    async def user(self, username: str, password: str = "password1") -> str:
        """Registers `username` and gives it an API key with every AstrBot scope."""
        registered = await self.client.post("/api/auth/register", json={"username": username, "password": password})
        assert registered.status_code == 201, registered.text
        await self.login(username, password)
        self.keys[username] = await self.key(username)
        return self.keys[username]

    async def chat(self, body: dict[str, Any], who: str = "alice") -> tuple[httpx.Response, str]:
        async with self.client.stream("POST", "/api/v1/chat", json=body, headers=self.auth(who)) as response:
            raw = (await response.aread()).decode()
        return response, raw


Start = Callable[..., Awaitable[Astr]]


@pytest_asyncio.fixture
async def start_astrbot(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[Start]:
    """`astr = await start_astrbot(**settings_overrides)`: a fresh app and data dir; alice has a key."""
    apps = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Astr:
            app = create_app(astrbot_settings(tmp_path / f"app{next(apps)}", upstream, **overrides))
            base_url = await stack.enter_async_context(LiveServer(app))
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30))
            astr = Astr(client, base_url, app=app)
            await astr.login(ADMIN.username, ADMIN.password)
            await astr.user("alice")
            return astr

        yield start


def data_events(raw: str) -> list[dict[str, Any]]:
    """AstrBot SSE text -> its event objects; asserts there is nothing but `data:` lines and comments."""
    events = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            assert line.startswith("data: "), f"not a data line: {line!r}"
            events.append(orjson.loads(line[6:]))
    return events


_PLACEHOLDERS = [
    (re.compile(r'"message_id": "[0-9a-f-]{36}"'), '"message_id": "<uuid>"'),
    (re.compile(r'"session_id": "[0-9a-f-]{36}"'), '"session_id": "<uuid>"'),
    (re.compile(r'"(id|attachment_id)": "file_[0-9a-f]{28}"'), r'"\1": "<file>"'),
    (re.compile(r"\[(IMAGE|RECORD|FILE|VIDEO)\]file_[0-9a-f]{28}"), r"[\1]<file>"),
    (re.compile(r'"(created_at|updated_at)": "[0-9T:.+-]+"'), r'"\1": "<time>"'),
    (re.compile(r'"(start_time|end_time|time_to_first_token)": [0-9.e-]+'), r'"\1": <seconds>'),
    (re.compile(r'\\"ts\\": [0-9.]+'), r'\\"ts\\": <ts>'),
    (re.compile(r'"id": \d+'), '"id": <n>'),
    (re.compile(r"prof_[0-9a-f]{28}"), "<profile>"),
]


def normalise(text: str) -> str:
    """Replaces ids, times and timings with placeholders so a golden file can hold the rest exactly."""
    for pattern, placeholder in _PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return text
