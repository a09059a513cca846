"""Issue 18, IM bots with several workers, for real: two `serve` processes (two hosts) on one
PostgreSQL and one Redis, with a Telegram platform pointed at the fake Bot API. Exactly one of
them polls (the platform's lease); a proactive message posted to the other reaches the chat
through the one that polls; `kill -9` the poller and the other takes over within about the
lease's time and answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from tests.support.app_settings import ADMIN
from tests.support.serve_process import SWITCHBOARD, free_port, until_ready
from tests.support.telegram_api import TOKEN, FakeBotApi
from tests.support.upstream import ScriptedUpstream

pytestmark = pytest.mark.postgres

LEASE_SECONDS = 2.0
TAKEOVER_BOUND = 30.0  # a liveness bound for a loaded machine, not a measurement: it takes ~LEASE_SECONDS
ALICE = 501


class PollCountingBotApi(FakeBotApi):
    """The fake Bot API, counting getUpdates long polls held at once (Telegram answers 409 Conflict
    to a second poller of one token)."""

    def __init__(self) -> None:
        super().__init__()
        self.polling = 0
        self.most_polling = 0

    async def _api_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.polling += 1
        self.most_polling = max(self.most_polling, self.polling)
        try:
            return await super()._api_getUpdates(params, files)
        finally:
            self.polling -= 1


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    client: httpx.AsyncClient  # an administrator's JWT and an im-scoped key (X-API-Key) on it

    async def platform_state(self, platform_id: str) -> str | None:
        """This process's own state of the platform (connected, standby ...), from its /metrics."""
        text = (await self.client.get("/metrics")).text
        return next((sample.labels["state"] for family in text_string_to_metric_families(text)
                     if family.name == "switchboard_im_platform_state" for sample in family.samples
                     if sample.labels["platform"] == platform_id and sample.value == 1.0), None)


@pytest_asyncio.fixture
async def api() -> AsyncIterator[PollCountingBotApi]:
    fake = PollCountingBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@contextlib.asynccontextmanager
async def serve(env: dict[str, str], log: Path) -> AsyncIterator[Worker]:
    port = free_port()
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(SWITCHBOARD, "serve", "--port", str(port), env=env,
                                                       stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        assert await until_ready(process, base, attempts=1200), f"the server exited during start-up; its log: {log}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            login = await client.post("/api/auth/login", json={"username": ADMIN.username, "password": ADMIN.password})
            client.headers["Authorization"] = "Bearer " + login.json()["data"]["access_token"]
            key = await client.post("/api/keys", json={"name": "pusher", "scopes": ["im", "file"]})
            assert key.status_code == 201, key.text
            client.headers["X-API-Key"] = key.json()["data"]["key"]
            yield Worker(process, client)
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 60)


async def until(condition: Any, within: float = TAKEOVER_BOUND) -> None:
    """Polls the workers' APIs: what they do shows only in their answers and in the fake API."""
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110 - nothing in this process to wait on
            await asyncio.sleep(0.05)


async def test_one_worker_polls_the_other_routes_to_it_and_takes_over_when_it_dies(
        tmp_path: Path, postgres_url: str, redis_url: str, upstream: ScriptedUpstream,
        api: PollCountingBotApi) -> None:
    platform_id = f"tg{uuid.uuid4().hex[:8]}"  # its lease is a Redis key: unique among parallel tests
    entry = {"id": platform_id, "type": "telegram", "token": TOKEN, "api_base": api.base_url,
             "poll_timeout_seconds": 1, "reconnect_initial_seconds": 0.05, "reconnect_max_seconds": 0.2,
             "edit_interval_seconds": 0}
    provider = {"name": "up", "base_url": upstream.base_url, "models": ["gpt-test"], "max_retries": 0}
    env = {**os.environ, "SWITCHBOARD_LOG_LEVEL": "warning", "SWITCHBOARD_DATABASE_URL": postgres_url,
           "SWITCHBOARD_REDIS_URL": redis_url, "SWITCHBOARD_PLATFORMS": orjson.dumps([entry]).decode(),
           "SWITCHBOARD_PROVIDERS": orjson.dumps([provider]).decode(), "SWITCHBOARD_DEFAULT_MODEL": "gpt-test",
           "SWITCHBOARD_TOOLS": '{"allowed": []}', "SWITCHBOARD_METRICS": '{"public": true}',
           "SWITCHBOARD_ADMIN": orjson.dumps(ADMIN.model_dump()).decode(),
           "SWITCHBOARD_WORKERS": orjson.dumps({"heartbeat_seconds": 0.5, "dead_after_seconds": 5,
                                                "platform_lease_seconds": LEASE_SECONDS}).decode()}
    for name in ("OPENAI_API_KEY", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    async with contextlib.AsyncExitStack() as stack:
        # one after the other: the first creates the schema
        one = await stack.enter_async_context(serve({**env, "SWITCHBOARD_DATA_DIR": str(tmp_path / "a")},
                                                    tmp_path / "a.log"))
        two = await stack.enter_async_context(serve({**env, "SWITCHBOARD_DATA_DIR": str(tmp_path / "b")},
                                                    tmp_path / "b.log"))

        async def one_connected_one_standby() -> bool:
            return sorted([await one.platform_state(platform_id), await two.platform_state(platform_id)]) \
                == ["connected", "standby"]
        await until(one_connected_one_standby)
        poller, standby = (one, two) if await one.platform_state(platform_id) == "connected" else (two, one)

        api.private(ALICE, "hello from alice")

        async def answered(words: str) -> Any:
            return any(words in text for text in api.texts(ALICE))
        await until(lambda: answered("hello from alice"))

        # the worker that does not poll lists the bot as the poller announced it, and routes to it
        async def listed_on_standby() -> bool:
            listed = (await standby.client.get("/api/v1/im/bots")).json()["data"]
            return platform_id in listed["bot_ids"]
        await until(listed_on_standby)
        [bot] = [b for b in (await standby.client.get("/api/v1/im/bots")).json()["data"]["bots"]
                 if b["id"] == platform_id]
        assert bot["running"] and bot["accounts"] == [{"id": "switchboard_bot", "online": True}]
        sent = await standby.client.post("/api/v1/im/message", json={
            "umo": f"{platform_id}:FriendMessage:{ALICE}", "message": "a note posted to the other worker"})
        assert sent.json()["status"] == "ok", sent.text
        assert "a note posted to the other worker" in api.texts(ALICE)

        # the poller's refusal (Telegram's) comes back to the worker the message was posted to
        api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
        refused = await standby.client.post("/api/v1/im/message", json={
            "umo": f"{platform_id}:FriendMessage:{ALICE}", "message": "refused"})
        assert refused.json()["status"] == "error" and "bot was blocked by the user" in refused.json()["message"]

        os.kill(poller.process.pid, signal.SIGKILL)  # no shutdown: its lease is left to expire
        await poller.process.wait()

        async def took_over() -> bool:
            return await standby.platform_state(platform_id) == "connected"
        await until(took_over)
        api.private(ALICE, "anyone there after the crash")
        await until(lambda: answered("anyone there after the crash"))
        assert api.most_polling == 1, "two workers polled the bot at once"
