"""`switchboard serve --server uvicorn|granian`: the same app behind either HTTP server, as a real
process: a /v1 stream, an AstrBot WebSocket, a native stream, a client leaving an SSE stream, and a
clean stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets

from tests.support.serve_process import SWITCHBOARD, free_port, until_ready

pytestmark = pytest.mark.parametrize("server", ["uvicorn", "granian"])


@dataclass
class Served:
    base: str
    key: str  # an API key of the admin (chat, config)
    process: asyncio.subprocess.Process
    log: Path


@asynccontextmanager
async def served(tmp_path: Path, server: str) -> AsyncIterator[Served]:
    port = free_port()
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_LOG_LEVEL": "info",
           "SWITCHBOARD_ADMIN": json.dumps({"username": "admin", "password": "admin-password"})}
    env.pop("OPENAI_API_KEY", None)
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            SWITCHBOARD, "serve", "--server", server, "--port", str(port), env=env,
            stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            assert await until_ready(process, base), log_path.read_text()
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                login = await client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
                auth = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
                key = (await client.post("/api/keys", json={"name": "k", "scopes": ["chat", "config"]},
                                         headers=auth)).json()["data"]["key"]
            yield Served(base, key, process, log_path)
        finally:
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), 20)


async def test_a_stream_a_socket_a_client_leaving_then_a_clean_stop(tmp_path: Path, server: str) -> None:
    """One process per server for all four (each `serve` start-up is ~4 s of the suite's time):
    the clean stop is then also the stop of a server that has had a client leave mid-stream."""
    async with served(tmp_path, server) as app:
        async with httpx.AsyncClient(base_url=app.base, timeout=30) as client:
            await _a_v1_stream_and_an_astrbot_socket_work(app, client)
            await _a_native_stream_is_answered_by_the_echo_model(client)
            await _a_client_leaving_a_stream_leaves_the_server_serving(app, client)
        app.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(app.process.wait(), 20)
    written = app.log.read_text()
    assert code in (0, -signal.SIGTERM), written  # uvicorn ends by re-raising the signal it caught
    assert "Traceback" not in written
    finished = {"uvicorn": "Application shutdown complete", "granian": "INFO _granian: Granian shutdown completed"}
    assert finished[server] in written  # granian's own lines come out in our log format


async def _a_v1_stream_and_an_astrbot_socket_work(app: Served, client: httpx.AsyncClient) -> None:
    body = {"model": "echo", "stream": True, "messages": [{"role": "user", "content": "hello"}]}
    async with client.stream("POST", "/v1/chat/completions", json=body,
                             headers={"Authorization": f"Bearer {app.key}"}) as stream:
        lines = [line async for line in stream.aiter_lines() if line.startswith("data: ")]
    url = app.base.replace("http://", "ws://") + f"/api/v1/chat/ws?key={app.key}"
    async with websockets.connect(url) as socket:
        await socket.send(json.dumps({"t": "ping"}))
        pong = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert stream.status_code == 200 and lines[-1] == "data: [DONE]"
    text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                   for line in lines[:-1] if json.loads(line[6:])["choices"])
    assert "hello" in text
    assert pong == {"type": "pong"}


async def _a_native_stream_is_answered_by_the_echo_model(client: httpx.AsyncClient) -> None:
    login = await client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
    auth = {"Authorization": "Bearer " + login.json()["data"]["access_token"]}
    conversation = (await client.post("/api/conversations/", json={"title": "t"}, headers=auth)).json()["data"]
    async with client.stream("POST", "/api/messages/stream", headers=auth,
                             json={"conversation_id": conversation["id"], "content": "hi there"}) as stream:
        events = [line.removeprefix("event: ") async for line in stream.aiter_lines() if line.startswith("event: ")]
    messages = (await client.get(f"/api/messages/{conversation['id']}", headers=auth)).json()["data"]
    assert events[0] == "start" and events[-1] == "done" and "text" in events
    assert messages[-1]["content"] == "Echo: hi there"


async def _a_client_leaving_a_stream_leaves_the_server_serving(app: Served, client: httpx.AsyncClient) -> None:
    body = {"model": "echo", "stream": True, "messages": [{"role": "user", "content": "x " * 2000}]}
    async with httpx.AsyncClient(base_url=app.base, timeout=30) as leaving:
        async with leaving.stream("POST", "/v1/chat/completions", json=body,
                                  headers={"Authorization": f"Bearer {app.key}"}) as stream:
            async for _ in stream.aiter_lines():
                break  # the client goes away after the first line
    again = await client.get("/readyz")
    assert again.status_code == 200
