"""A Switchboard server with a Telegram platform pointed at the fake Bot API, the scripted upstream
as its model, both on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.app.container import Runtime
from switchboard.platforms._shared.supervisor import PlatformState
from tests.support.app_settings import app_settings
from tests.support.fakes import eventually
from tests.support.live_server import LiveServer
from tests.support.telegram_api import TOKEN, FakeBotApi
from tests.support.upstream import ScriptedUpstream


@dataclass
class Bot:
    base_url: str
    runtime: Runtime
    upstream: ScriptedUpstream
    api: FakeBotApi

    @property
    def state(self) -> PlatformState:
        assert self.runtime.platforms is not None
        return self.runtime.platforms.supervisor.states()[0]


StartBot = Callable[..., Awaitable[Bot]]


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = await FakeBotApi().start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture
async def start_bot(tmp_path: Path, upstream: ScriptedUpstream, api: FakeBotApi) -> AsyncIterator[StartBot]:
    """`bot = await start_bot(edit_interval_seconds=0, ...)`: options of the `tg` platform; other
    Settings fields via `settings=`. Returns once the bot is polling (unless `wait=False`)."""
    servers: list[LiveServer] = []

    async def start(settings: dict[str, Any] | None = None, models: list[str] | None = None, wait: bool = True,
                    **options: Any) -> Bot:
        entry = {"id": "tg", "type": "telegram", "token": TOKEN, "api_base": api.base_url,
                 "poll_timeout_seconds": 10, "reconnect_initial_seconds": 0.05, "reconnect_max_seconds": 0.2,
                 **options}
        config = app_settings(tmp_path / f"data{len(servers)}", upstream, models=models, platforms=[entry],
                              **(settings or {}))
        app = create_app(config)
        server = LiveServer(app)
        servers.append(server)
        bot = Bot(await server.__aenter__(), app.state.runtime, upstream, api)
        if wait:
            await eventually(lambda: bot.state.status == "connected")
        return bot

    yield start
    for server in servers:
        await server.__aexit__(None, None, None)
