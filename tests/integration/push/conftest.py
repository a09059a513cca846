"""Fixtures of the several-workers tests: Redis reachable or the test skipped (`redis_url`), and
two apps built as `serve` builds them on one settings (`two_workers`). A module says which
settings with its own `two_workers_settings` fixture (one database and one Redis, as two hosts
share them)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.config.settings import Settings
from tests.integration.native.conftest import Api
from tests.support.app_settings import ADMIN
from tests.support.live_server import LiveServer
from tests.support.redis_server import redis_url

__all__ = ["redis_url"]  # the fixture


@pytest_asyncio.fixture
async def two_workers(two_workers_settings: Settings) -> AsyncIterator[tuple[Api, Api]]:
    """Each app behind a live server of its own, the administrator logged in on both."""
    async with contextlib.AsyncExitStack() as stack:
        workers = []
        for _ in range(2):
            app = create_app(two_workers_settings)
            base_url = await stack.enter_async_context(LiveServer(app))
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30))
            worker = Api(client, runtime=app.state.runtime)
            await worker.login(ADMIN.username, ADMIN.password)
            workers.append(worker)
        yield workers[0], workers[1]
