"""The app in-process (httpx ASGITransport inside its lifespan), with alice, bob and the admin logged in.

    native          a fresh app per test (tests that change users, tokens or keys)
    shared_native   one app per module (tests that only send bad requests); mark the module with
                    `pytestmark = pytest.mark.asyncio(loop_scope="module")`
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from switchboard.adapters.security.jwt_tokens import JwtTokenIssuer
from switchboard.adapters.security.passwords import Argon2PasswordHasher
from switchboard.app.accounts_wiring import signing_secret
from switchboard.app.asgi import create_app
from switchboard.app.container import build_runtime
from switchboard.config.settings import AdminSettings, LimitSettings, Settings
from switchboard.core.services.accounts.auth import AccountService
from switchboard.core.services.admin.runtime_config import live_applier
from switchboard.core.services.admin.users import AdminService

ADMIN = AdminSettings(username="admin", password="admin-password")
MAX_BODY = 64 * 1024
# real argon2id, with parameters cheap enough for the hundreds of logins the tests do
FAST_HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def fast_app(settings: Settings) -> FastAPI:
    """The real app, its account and admin services built with FAST_HASHER (same store, same token issuer)."""
    runtime = build_runtime(settings)
    issuer = JwtTokenIssuer(signing_secret(settings.data_dir), timedelta(minutes=settings.jwt_ttl_minutes))
    services = runtime.services
    services.accounts = AccountService(runtime.uow, FAST_HASHER, issuer, services.clock, services.accounts.policy,
                                       throttle=services.accounts.throttle)
    services.admin = AdminService(runtime.uow, services.accounts)  # accounts it creates or resets hash fast too
    # live settings (registration, default allowance) reach the account service in use
    services.runtime_config.listen(live_applier(services.media, services.tools, services.accounts))
    return create_app(settings, runtime)


@dataclass
class Native:
    app: FastAPI
    client: httpx.AsyncClient
    saved: dict[str, Any]  # <who>_token, <who>_id for alice, bob and admin

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.saved[who + '_token']}"}


def contract_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(**{"data_dir": data_dir, "admin": ADMIN, "limits": LimitSettings(max_body_bytes=MAX_BODY),
                       **overrides})


async def login(client: httpx.AsyncClient, saved: dict[str, Any], username: str, password: str) -> None:
    response = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    saved[f"{username}_token"] = response.json()["data"]["access_token"]
    saved[f"{username}_id"] = response.json()["data"]["user"]["id"]


@asynccontextmanager
async def open_native(
    data_dir: Path, users: tuple[str, ...] = ("alice", "bob"), **overrides: Any
) -> AsyncIterator[Native]:
    app = fast_app(contract_settings(data_dir, **overrides))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        saved: dict[str, Any] = {}
        await login(client, saved, ADMIN.username, ADMIN.password)
        for name in users:
            registered = await client.post("/api/auth/register", json={"username": name, "password": "password1"})
            assert registered.status_code == 201, registered.text
            await login(client, saved, name, "password1")
        yield Native(app, client, saved)


@pytest_asyncio.fixture
async def native(tmp_path: Path) -> AsyncIterator[Native]:
    async with open_native(tmp_path) as opened:
        yield opened


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_native(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Native]:
    async with open_native(tmp_path_factory.mktemp("shared_native")) as opened:
        yield opened
