"""A Switchboard server with OneBot platforms, the scripted upstream as its model, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.app.container import Runtime
from tests.support.app_settings import app_settings
from tests.support.live_server import LiveServer
from tests.support.onebot_peer import OneBotPeer
from tests.support.upstream import ScriptedUpstream

TOKEN = "onebot-secret"


@dataclass
class Bot:
    base_url: str
    runtime: Runtime
    upstream: ScriptedUpstream

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/onebot/v11/ws"

    async def peer(self, self_id: int = 10000, **connect: Any) -> OneBotPeer:
        peer = OneBotPeer(self_id)
        await peer.connect(connect.pop("url", self.ws_url), token=connect.pop("token", TOKEN), **connect)
        return peer


StartBot = Callable[..., Awaitable[Bot]]


@pytest_asyncio.fixture
async def start_bot(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[StartBot]:
    """`bot = await start_bot(wake_words=["/ai"], ...)`: options of the `qq` platform (reverse mode,
    access token TOKEN); `platforms=[...]` replaces the list; other Settings fields via `settings=`."""
    servers: list[LiveServer] = []
    peers: list[OneBotPeer] = []

    async def start(platforms: list[dict[str, Any]] | None = None, settings: dict[str, Any] | None = None,
                    models: list[str] | None = None, **options: Any) -> Bot:
        entry = {"id": "qq", "type": "onebot11", "mode": "reverse", "access_token": TOKEN, **options}
        config = app_settings(tmp_path / f"data{len(servers)}", upstream, models=models,
                              platforms=platforms if platforms is not None else [entry], **(settings or {}))
        app = create_app(config)
        server = LiveServer(app)
        servers.append(server)
        base_url = await server.__aenter__()
        bot = Bot(base_url, app.state.runtime, upstream)
        original = bot.peer

        async def tracked(self_id: int = 10000, **connect: Any) -> OneBotPeer:
            peer = await original(self_id, **connect)
            peers.append(peer)
            return peer

        bot.peer = tracked  # type: ignore[method-assign]
        return bot

    yield start
    for peer in peers:
        await peer.close()
    for server in servers:
        await server.__aexit__(None, None, None)
