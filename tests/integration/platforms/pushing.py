"""A client of AstrBot's proactive API for the platform tests: an administrator's key with the `im`
and `file` scopes, sent as AstrBot's clients send it (X-API-Key)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.support.app_settings import ADMIN


@asynccontextmanager
async def pusher(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        login = await client.post("/api/auth/login", json={"username": ADMIN.username, "password": ADMIN.password})
        token = login.json()["data"]["access_token"]
        created = await client.post("/api/keys", json={"name": "pusher", "scopes": ["im", "file"]},
                                    headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        client.headers["X-API-Key"] = created.json()["data"]["key"]
        yield client
