"""The whole app on a real uvicorn server for the OpenAI face (pytest plugin: `start_gateway`, `gw`),
used through the official `openai` SDK or raw HTTP, its models served by scripted OpenAI-wire
upstreams on 127.0.0.1."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest_asyncio
from sqlalchemy import select

from switchboard.adapters.storage.tables import usage_ledger
from switchboard.app.asgi import create_app
from switchboard.app.container import Runtime
from switchboard.config.settings import ProviderSettings, Settings
from switchboard.core.domain.users import Scope
from switchboard.core.services.accounts.keys import KeyOptions
from tests.support.live_server import LiveServer
from tests.support.upstream import ScriptedUpstream

MODEL = "gpt-test"


@dataclass
class Gateway:
    base_url: str
    runtime: Runtime
    user_id: int
    key: str

    def client(self, key: str | None = None, **options: Any) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.base_url + "/v1", api_key=key or self.key, max_retries=0, **options)

    def sync_client(self, key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url + "/v1", api_key=key or self.key, max_retries=0)

    async def new_key(self, user_id: int | None = None, **options: Any) -> str:
        options.setdefault("scopes", frozenset({Scope.CHAT}))
        issued = await self.runtime.services.keys.issue(user_id or self.user_id, KeyOptions(**options))
        return issued.secret

    async def new_user(self, name: str, allowance: int = 0) -> int:
        user = await self.runtime.services.accounts.create_user(name, "password1")
        if allowance:
            async with self.runtime.uow() as tx:
                await tx.quotas.set_allowance(user.id, allowance, unlimited=False)
        return user.id

    async def ledger(self) -> list[dict[str, Any]]:
        await self.runtime.services.gateway.flush()
        async with self.runtime.uow() as tx:
            rows = await tx.quotas._connection.execute(select(usage_ledger).order_by(usage_ledger.c.id))  # type: ignore[attr-defined]
            return [dict(row) for row in rows.mappings()]


def gateway_settings(data_dir: Path, upstreams: list[ScriptedUpstream], provider: dict[str, Any] | None = None,
                     **overrides: Any) -> Settings:
    """`provider`: ProviderSettings fields for every provider; `overrides`: Settings fields."""
    options: dict[str, Any] = {"models": [MODEL], "first_byte_timeout": 5, "idle_timeout": 5, **(provider or {})}
    providers = [ProviderSettings(name=f"up{i}", base_url=u.base_url, **options) for i, u in enumerate(upstreams)]
    values: dict[str, Any] = {"data_dir": data_dir, "providers": providers, "default_model": MODEL,
                              "auth_cache_seconds": 0.0, **overrides}
    return Settings(**values)


Start = Callable[..., Awaitable[Gateway]]


@pytest_asyncio.fixture
async def start_gateway(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[Start]:
    """`gw = await start_gateway(upstreams=[...], provider={...}, **settings)`: a fresh app, user `alice`
    and her key."""
    apps = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(upstreams: list[ScriptedUpstream] | None = None, provider: dict[str, Any] | None = None,
                        **overrides: Any) -> Gateway:
            settings = gateway_settings(tmp_path / f"app{next(apps)}", upstreams or [upstream], provider, **overrides)
            app = create_app(settings)
            base_url = await stack.enter_async_context(LiveServer(app))
            runtime: Runtime = app.state.runtime
            user = await runtime.services.accounts.create_user("alice", "password1")
            issued = await runtime.services.keys.issue(user.id, KeyOptions(scopes=frozenset({Scope.CHAT})))
            return Gateway(base_url, runtime, user.id, issued.secret)

        yield start


@pytest_asyncio.fixture
async def gw(start_gateway: Start) -> Gateway:
    return await start_gateway()
