"""The whole app on a real uvicorn server, Mio-Chat clients on real WebSockets (`websockets`),
models from the scripted upstream."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect

from switchboard.app.asgi import create_app
from switchboard.config.face_settings import MiochatSettings
from tests.integration.native.conftest import ADMIN, Api, native_settings
from tests.support.live_server import LiveServer
from tests.support.upstream import ScriptedUpstream


@dataclass
class MioWs:
    """One Mio-Chat socket: send frames, read frames (with a timeout), pick them by request_id."""

    conn: ClientConnection
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.conn.send(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    async def recv(self, within: float = 10) -> dict[str, Any]:
        async with asyncio.timeout(within):
            frame = orjson.loads(await self.conn.recv())
        self.seen.append(frame)
        return dict(frame)

    async def until(self, done: Callable[[dict[str, Any]], bool], within: float = 15) -> list[dict[str, Any]]:
        """Frames up to and including the first that `done` accepts."""
        frames = []
        async with asyncio.timeout(within):
            while True:
                frame = await self.recv(within)
                frames.append(frame)
                if done(frame):
                    return frames

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a frame, return the reply with its request_id (other frames are kept in `seen`)."""
        await self.send(frame)
        replies = await self.until(lambda f: f.get("request_id") == frame.get("request_id") and "code" in f)
        return replies[-1]

    async def stream(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """An openai/completions frame -> its frames up to completed/failed."""
        await self.send(frame)
        rid = frame["request_id"]
        frames = await self.until(lambda f: f.get("request_id") == rid and f.get("message") in ("completed", "failed"))
        return [f for f in frames if f.get("request_id") == rid]


@dataclass
class Mio:
    base_url: str
    api: Api
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"

    async def key(self, who: str, scopes: list[str] | None = None) -> str:
        body = {"name": "mio", "scopes": scopes or ["chat", "file"]}
        response = await self.api.client.post("/api/keys", json=body, headers=self.api.auth(who))
        assert response.status_code == 201, response.text
        self.keys[who] = response.json()["data"]["key"]
        return self.keys[who]

    def headers(self, who: str, client_id: str | None = None) -> dict[str, str]:
        return {"mio-chat-id": client_id or f"client-{who}", "mio-chat-token": self.keys[who]}


Start = Callable[..., Awaitable[Mio]]
Open = Callable[..., Awaitable[MioWs]]


@pytest_asyncio.fixture
async def start_mio(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[Start]:
    """`mio = await start_mio(**miochat_settings)`: a fresh app; alice and bob with API keys.
    `keep="name"`: the data directory of that name; started again, the same users and keys (a
    restart, e.g. with a setting that names a key made by the first start); `app={...}`: other
    settings of the app (e.g. `limits`)."""
    apps = itertools.count()
    kept: dict[str, Mio] = {}
    async with contextlib.AsyncExitStack() as stack:

        async def start(keep: str | None = None, app: dict[str, Any] | None = None, **miochat: Any) -> Mio:
            data_dir = tmp_path / (keep or f"app{next(apps)}")
            settings = native_settings(data_dir, upstream, miochat=MiochatSettings(**miochat), **(app or {}))
            base_url = await stack.enter_async_context(LiveServer(create_app(settings)))
            api = Api(await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30)))
            await api.login(ADMIN.username, ADMIN.password)
            mio = Mio(base_url, api)
            if keep is not None and keep in kept:
                mio.keys = dict(kept[keep].keys)
                return mio
            for who in ("alice", "bob"):
                await api.user(who)
                await mio.key(who)
            if keep is not None:
                kept[keep] = mio
            return mio

        yield start


@pytest_asyncio.fixture
async def open_ws() -> AsyncIterator[Open]:
    """`ws = await open_ws(url, headers=...)`: a socket closed after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def open_(url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> MioWs:
            conn = await stack.enter_async_context(connect(url, additional_headers=headers, **kwargs))
            return MioWs(conn)

        yield open_


async def logged_in(mio: Mio, open_ws: Open, who: str, client_id: str | None = None) -> MioWs:
    ws = await open_ws(mio.ws_url, mio.headers(who, client_id))
    login = await ws.recv()
    assert login["code"] == 0 and login["message"] == "success", login
    return ws
