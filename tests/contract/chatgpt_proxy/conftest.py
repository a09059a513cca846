"""The whole app on a real uvicorn server, its models served by the scripted upstream; helpers to
replay requests and compare answers with the golden files in fixtures/ (seed 001's wire format).

Golden files hold the exact bytes the proxy answers, with ids replaced by placeholders:
`<chatcode>` for a conversation id, `<owner>`/`<file>` in image links, `<b64>` for image data.
Run with `UPDATE_GOLDEN=1` to write them afresh (then read the diff before committing it).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.config.settings import Settings
from tests.support.app_settings import MODEL, app_settings
from tests.support.live_server import LiveServer
from tests.support.upstream import ScriptedUpstream

FIXTURES = Path(__file__).parent / "fixtures"
_CONVERSATION_ID = re.compile(r"conv_[0-9a-f]{28}")


def proxy_settings(data_dir: Path, upstream: ScriptedUpstream, **overrides: Any) -> Settings:
    return app_settings(data_dir, upstream, models=[MODEL, "whisper-1", "text-embedding-ada-002"], **overrides)


@dataclass
class Proxy:
    """An httpx client on the live server, with an API key per registered user."""

    client: httpx.AsyncClient
    keys: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    async def user(self, username: str, password: str = "password1") -> str:
        """Registers `username` and gives it an API key (through the native API)."""
        registered = await self.client.post("/api/auth/register", json={"username": username, "password": password})
        assert registered.status_code == 201, registered.text
        login = await self.client.post("/api/auth/login", json={"username": username, "password": password})
        token = login.json()["data"]["access_token"]
        created = await self.client.post("/api/keys", json={"name": "proxy"},
                                         headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        self.keys[username] = created.json()["data"]["key"]
        return self.keys[username]

    async def post(self, path: str, body: Any, who: str | None = "alice") -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.auth(who) if who else {})

    async def native(self, who: str, path: str) -> Any:
        """GET a native API path as `who` (a password login), for looking behind the proxy."""
        login = await self.client.post("/api/auth/login", json={"username": who, "password": "password1"})
        token = login.json()["data"]["access_token"]
        response = await self.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def messages(self, who: str, conversation_id: str) -> list[dict[str, Any]]:
        return list(await self.native(who, f"/api/messages/{conversation_id}"))

    async def conversations(self, who: str) -> list[dict[str, Any]]:
        return list((await self.native(who, "/api/conversations?page_size=100"))["items"])


Start = Callable[..., Awaitable[Proxy]]


@pytest_asyncio.fixture
async def start_proxy(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[Start]:
    """`proxy = await start_proxy(**settings_overrides)`: a fresh app and data dir, user alice with a key."""
    apps = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Proxy:
            app = create_app(proxy_settings(tmp_path / f"app{next(apps)}", upstream, **overrides))
            base_url = await stack.enter_async_context(LiveServer(app))
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30))
            proxy = Proxy(client, {})
            await proxy.user("alice")
            return proxy

        yield start


@pytest_asyncio.fixture
async def proxy(start_proxy: Start) -> Proxy:
    return await start_proxy()


def normalize(text: str) -> str:
    text = _CONVERSATION_ID.sub("<chatcode>", text)
    text = re.sub(r"http://127\.0\.0\.1:\d+/openai/image/file/\d+/file_[0-9a-f]+", "<link>", text)
    return re.sub(r'"b64_json":"[A-Za-z0-9+/=]+"', '"b64_json":"<b64>"', text)


def assert_golden(name: str, response: httpx.Response) -> None:
    """The answer's body, normalized, equals fixtures/<name>: streams byte for byte, JSON as JSON."""
    path = FIXTURES / name
    actual = normalize(response.text)
    if name.endswith(".json"):  # plain answers: compared as JSON, stored indented to be read
        if os.environ.get("UPDATE_GOLDEN"):
            path.write_bytes(orjson.dumps(orjson.loads(actual), option=orjson.OPT_INDENT_2) + b"\n")
        assert orjson.loads(actual) == orjson.loads(path.read_bytes()), f"{name} differs from its golden file"
        return
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    """An NDJSON or SSE stream's objects, in order (SSE comments left out)."""
    out = []
    for line in response.text.splitlines():
        if line.startswith("data: "):
            line = line[6:]
        if line.startswith("{"):
            out.append(orjson.loads(line))
    return out
