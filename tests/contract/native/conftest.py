"""The app in-process (httpx ASGITransport inside its lifespan), with alice, bob and the admin logged in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI

from switchboard.app.asgi import create_app
from switchboard.config.settings import AdminSettings, LimitSettings, Settings

ADMIN = AdminSettings(username="admin", password="admin-password")
MAX_BODY = 64 * 1024


@dataclass
class Native:
    app: FastAPI
    client: httpx.AsyncClient
    saved: dict[str, Any]  # <who>_token, <who>_id for alice, bob and admin

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.saved[who + '_token']}"}


def contract_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=data_dir, admin=ADMIN, limits=LimitSettings(max_body_bytes=MAX_BODY), **overrides)


async def login(client: httpx.AsyncClient, saved: dict[str, Any], username: str, password: str) -> None:
    response = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    saved[f"{username}_token"] = response.json()["data"]["access_token"]
    saved[f"{username}_id"] = response.json()["data"]["user"]["id"]


@pytest_asyncio.fixture
async def native(tmp_path: Path) -> AsyncIterator[Native]:
    app = create_app(contract_settings(tmp_path))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        saved: dict[str, Any] = {}
        await login(client, saved, ADMIN.username, ADMIN.password)
        for name in ("alice", "bob"):
            registered = await client.post("/api/auth/register", json={"username": name, "password": "password1"})
            assert registered.status_code == 201, registered.text
            await login(client, saved, name, "password1")
        yield Native(app, client, saved)
