"""`switchboard serve` as a real process: what a new user sees following the README."""

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.support.serve_process import SWITCHBOARD, free_port, until_ready
from tests.support.upstream import Reply, ScriptedUpstream


@asynccontextmanager
async def serving(data_dir: Path, server: str = "uvicorn", **env: str) -> AsyncIterator[str]:
    """Async all through: the scripted upstream runs on this test's event loop and must stay
    responsive while the server starts (it lists the upstream's models at start)."""
    port = free_port()
    environment = {**os.environ, "SWITCHBOARD_DATA_DIR": str(data_dir), "SWITCHBOARD_LOG_LEVEL": "warning", **env}
    if "OPENAI_API_KEY" not in env:
        environment.pop("OPENAI_API_KEY", None)
    process = await asyncio.create_subprocess_exec(
        SWITCHBOARD, "serve", "--server", server, "--port", str(port), env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not await until_ready(process, base):
            raise AssertionError(await process.stderr.read() if process.stderr else "exited")
        yield base
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)


async def _chat(base: str, model: str | None) -> tuple[str, list[str]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await client.post("/api/auth/register", json={"username": "newcomer", "password": "a-long-password"})
        login = await client.post("/api/auth/login", json={"username": "newcomer", "password": "a-long-password"})
        auth = {"Authorization": "Bearer " + login.json()["data"]["access_token"]}
        body = {"title": "first"} | ({"model": model} if model else {})
        conversation = (await client.post("/api/conversations/", json=body, headers=auth)).json()["data"]
        events: list[str] = []
        async with client.stream("POST", "/api/messages/stream", headers=auth,
                                 json={"conversation_id": conversation["id"], "content": "hi there"}) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    events.append(line.removeprefix("event: "))
        messages = (await client.get(f"/api/messages/{conversation['id']}", headers=auth)).json()["data"]
        return messages[-1]["content"], events


async def test_with_no_provider_the_echo_model_answers(tmp_path: Path) -> None:
    """On the default server; granian's native stream is in test_serve_servers.py (one process each)."""
    async with serving(tmp_path) as base:
        answer, events = await _chat(base, None)
        async with httpx.AsyncClient(base_url=base) as client:
            models = (await client.get("/v1/models")).status_code  # the gateway wants a key
    assert answer == "Echo: hi there"
    assert events[0] == "start" and events[-1] == "done" and "text" in events
    assert models == 401


async def test_openai_environment_variables_configure_a_provider(tmp_path: Path, upstream: ScriptedUpstream) -> None:
    upstream.models = ["env-model"]
    upstream.push(Reply(text="from the upstream"))
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": upstream.base_url}
    async with serving(tmp_path, **env) as base:
        answer, _ = await _chat(base, "env-model")
    assert answer == "from the upstream"
    assert upstream.last.headers["Authorization"] == "Bearer sk-test"
