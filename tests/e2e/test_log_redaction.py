"""`switchboard serve` at the default log level writes no credential (item 5 of issue 19): keys
sent in query strings (`?api_key=`, `?key=`, `?token=`, the AstrBot WebSocket's query) are masked
in the access log and in every other line, in the process's real output."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
import websockets

from tests.support.serve_process import SWITCHBOARD, free_port, until_ready


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_query_string_credentials_never_reach_the_log(tmp_path: Path, log_format: str) -> None:
    port = free_port()
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_LOG_LEVEL": "info",
           "SWITCHBOARD_LOG_FORMAT": log_format,
           "SWITCHBOARD_ADMIN": json.dumps({"username": "admin", "password": "admin-password"})}
    env.pop("OPENAI_API_KEY", None)
    log = (tmp_path / "server.log").open("wb")
    process = await asyncio.create_subprocess_exec(SWITCHBOARD, "serve", "--port", str(port), env=env,
                                                   stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        assert await until_ready(process, base), "the server exited during start-up"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            token = (await client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"}
                                       )).json()["data"]["access_token"]
            key = (await client.post("/api/keys", json={"name": "k", "scopes": ["chat", "config"]},
                                     headers={"Authorization": f"Bearer {token}"})).json()["data"]["key"]
            configs = await client.get(f"/api/v1/configs?api_key={key}", headers={"X-Request-Id": "req-configs"})
            await client.get(f"/api/v1/configs?key={key}&x=1")
            await client.get(f"/v1/models?token={token}")
            await client.get("/v1/models?api_key=sb-not-a-real-key-but-secret-looking")
            url = f"ws://127.0.0.1:{port}/api/v1/chat/ws?key={key}"
            async with websockets.connect(url) as socket:
                await socket.send(json.dumps({"t": "ping"}))
                await asyncio.wait_for(socket.recv(), 10)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
        log.close()
    written = (tmp_path / "server.log").read_text()

    assert "GET /api/v1/configs?api_key=***" in written  # the access log is on, and masked
    assert "/api/v1/chat/ws?key=***" in written
    for secret in (key, key[3:], token, "not-a-real-key-but-secret-looking"):
        assert secret not in written
    assert configs.headers["x-request-id"] == "req-configs"
    if log_format == "text":
        assert "GET /api/v1/configs?api_key=*** HTTP/1.1\" 200 OK [req-configs]" in written
        return
    lines = [json.loads(line) for line in written.splitlines() if line.strip()]  # every line is JSON
    [access] = [line for line in lines if line.get("request_id") == "req-configs"]
    assert access["path"] == "/api/v1/configs?api_key=***" and access["status"] == 200
    assert access["method"] == "GET" and access["logger"] == "uvicorn.access"
