"""Two workers on one PostgreSQL and one Redis: a Mio-Chat client whose socket to one worker
dropped mid-answer reconnects to the other and sends the same completions frame again; it gets
the answer's frames from the start, then the tail produced on the first worker — one model call,
charged once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.config.settings import MiochatSettings, PasswordSettings, StreamingSettings
from tests.integration.miochat.conftest import Mio, Open, logged_in, open_ws
from tests.integration.miochat.test_resume import (
    USAGE,
    WORDS,
    carol,
    left_mid_answer,
    model_calls,
    resumed,
    text_of,
    tokens_of,
)
from tests.integration.native.conftest import Api
from tests.support.app_settings import ADMIN, app_settings
from tests.support.live_server import LiveServer
from tests.support.redis_server import redis_url
from tests.support.upstream import ScriptedUpstream

__all__ = ["open_ws", "redis_url"]  # the fixtures

pytestmark = pytest.mark.postgres


@pytest_asyncio.fixture
async def two_workers(tmp_path: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str
                      ) -> AsyncIterator[tuple[Mio, Mio]]:
    settings = app_settings(tmp_path / "shared", upstream, redis_url=redis_url, database_url=postgres_url,
                            streaming=StreamingSettings(flush_seconds=0.05), miochat=MiochatSettings(),
                            passwords=PasswordSettings(time_cost=1, memory_cost_kib=1024, parallelism=1))
    async with contextlib.AsyncExitStack() as stack:
        workers = []
        for _ in range(2):
            base_url = await stack.enter_async_context(LiveServer(create_app(settings)))
            api = Api(await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30)))
            await api.login(ADMIN.username, ADMIN.password)
            workers.append(Mio(base_url, api))
        yield workers[0], workers[1]


async def test_a_socket_dropped_on_one_worker_resumes_on_the_other(
    two_workers: tuple[Mio, Mio], open_ws: Open, upstream: ScriptedUpstream
) -> None:
    one, two = two_workers
    user_id = await carol(one)
    two.keys.update(one.keys)
    gate = await left_mid_answer(one, open_ws, upstream, "m1")

    frames = await resumed(await logged_in(two, open_ws, "carol"), "m1", gate)

    assert frames[0]["message"] == "pending" and frames[-1]["message"] == "completed"
    assert text_of(frames) == WORDS, "every text delta exactly once, from the start"
    assert model_calls(upstream) == 1
    assert await tokens_of(two, user_id) == (sum(USAGE), 0)
