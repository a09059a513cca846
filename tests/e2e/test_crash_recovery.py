"""Issue 19 (4), for real: `kill -9` the server in the middle of a chat stream and a gateway
stream, start it again, and nothing is left stuck: the answer is `interrupted` with its partial
text, what it streamed is charged by estimate, and the user's and the key's reservations (the
turn's hold and the worker's gateway lease) are back to 0."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.adapters.storage.tables import holds, usage_ledger
from tests.support.serve_process import SWITCHBOARD, free_port, until_ready
from tests.support.upstream import Reply, ScriptedUpstream

WORDS = " ".join(f"w{i}" for i in range(400))


def environment(data_dir: Path, upstream: ScriptedUpstream) -> dict[str, str]:
    provider = {"name": "up", "base_url": upstream.base_url, "models": ["gpt-test"], "max_retries": 0}
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(data_dir), "SWITCHBOARD_LOG_LEVEL": "warning",
           "SWITCHBOARD_PROVIDERS": orjson.dumps([provider]).decode(), "SWITCHBOARD_DEFAULT_MODEL": "gpt-test",
           "SWITCHBOARD_DEFAULT_TOKEN_ALLOWANCE": "100000", "SWITCHBOARD_TOOLS": '{"allowed": []}',
           "SWITCHBOARD_STREAMING": '{"flush_seconds": 0.1}',
           "SWITCHBOARD_WORKERS": '{"heartbeat_seconds": 0.2, "dead_after_seconds": 2}'}
    env.pop("OPENAI_API_KEY", None)
    return env


@contextlib.asynccontextmanager
async def server(env: dict[str, str]) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(SWITCHBOARD, "serve", "--port", str(port), env=env,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        assert await until_ready(process, base, attempts=1200), "the server exited during start-up"
        yield process, base
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 60)


async def read_until(lines: AsyncIterator[str], marker: str, count: int) -> None:
    seen = 0
    async for line in lines:
        seen += marker in line
        if seen >= count:
            return


async def test_kill_9_mid_stream_leaves_nothing_stuck(tmp_path: Path, upstream: ScriptedUpstream) -> None:
    env = environment(tmp_path, upstream)
    # both answers stop after 30 chunks and never go on: the server is killed meanwhile
    upstream.push(Reply(text=WORDS, gate=asyncio.Event(), gate_after=30),
                  Reply(text=WORDS, gate=asyncio.Event(), gate_after=30))
    async with server(env) as (process, base), httpx.AsyncClient(base_url=base, timeout=30) as client:
        await client.post("/api/auth/register", json={"username": "alice", "password": "a-long-password"})
        login = await client.post("/api/auth/login", json={"username": "alice", "password": "a-long-password"})
        session = {"Authorization": "Bearer " + login.json()["data"]["access_token"]}
        metered = (await client.post("/api/keys", json={"name": "metered", "token_quota": 50_000},
                                     headers=session)).json()["data"]
        plain = (await client.post("/api/keys", json={"name": "plain"}, headers=session)).json()["data"]
        by_key = {"Authorization": f"Bearer {metered['key']}"}
        conversation = (await client.post("/api/conversations/", json={"title": "t"}, headers=by_key)).json()["data"]
        turn = {"conversation_id": conversation["id"], "content": "tell me a long story"}
        async with contextlib.AsyncExitStack() as streams:
            chat = await streams.enter_async_context(
                client.stream("POST", "/api/messages/stream", json=turn, headers=by_key))
            # the line iterators stay referenced until the kill: a dropped one is closed by its
            # finaliser, which hangs up the stream (the server would then settle it before dying)
            chat_lines = chat.aiter_lines()
            await read_until(chat_lines, "event: text", 20)
            relay = await streams.enter_async_context(client.stream(
                "POST", "/v1/chat/completions", headers={"Authorization": f"Bearer {plain['key']}"},
                json={"model": "gpt-test", "stream": True, "messages": [{"role": "user", "content": "go"}]}))
            relay_lines = relay.aiter_lines()
            await read_until(relay_lines, "data:", 20)
            partial = await flushed_text(client, conversation["id"], session)
            os.kill(process.pid, signal.SIGKILL)  # no shutdown, no settlement, no finally
            await process.wait()
            streams.pop_all()  # the connections died with the server
            del chat_lines, relay_lines

    async with server(env) as (_, base), httpx.AsyncClient(base_url=base, timeout=30) as client:
        login = await client.post("/api/auth/login", json={"username": "alice", "password": "a-long-password"})
        session = {"Authorization": "Bearer " + login.json()["data"]["access_token"]}
        answer = await assistant_when(client, conversation["id"], session, "interrupted")
        assert answer["content"] == partial and partial.startswith("w0 w1")
        keys = {k["id"]: k for k in (await client.get("/api/keys", headers=session)).json()["data"]}

    async with stored(tmp_path) as uow, uow() as tx:
        alice = await tx.users.by_username("alice")
        assert alice is not None
        quota = await tx.quotas.get(alice.id)
        key = await tx.keys.get(metered["id"])
        ledger = (await tx.quotas._connection.execute(select(usage_ledger))).mappings().all()  # type: ignore[attr-defined]
        left = (await tx.quotas._connection.execute(select(holds))).mappings().all()  # type: ignore[attr-defined]
    # what is left, so a failure says which reservation stayed
    assert key is not None and (quota.reserved, key.tokens_reserved, left) == (0, 0, []), (ledger, left)
    [charged] = [e for e in ledger if e["message_id"] == answer["id"]]
    assert charged["estimated"] and charged["key_id"] == metered["id"] and charged["tokens_completion"] >= 20
    assert quota.used == charged["tokens_prompt"] + charged["tokens_completion"] == key.tokens_used, (quota, [
        (e["key_id"], e["message_id"], e["tokens_prompt"], e["tokens_completion"], e["estimated"]) for e in ledger])
    assert keys[metered["id"]]["tokens_used"] == key.tokens_used


async def flushed_text(client: httpx.AsyncClient, conversation_id: str, auth: dict[str, str]) -> str:
    """The answer's text once the periodic flush has stored some of it (what survives a crash)."""
    for _ in range(300):
        answer = await assistant(client, conversation_id, auth)
        if answer and len(answer["content"].split()) >= 20:
            return str(answer["content"])
        await asyncio.sleep(0.05)
    raise AssertionError("the streamed text was never flushed")


async def assistant_when(client: httpx.AsyncClient, conversation_id: str, auth: dict[str, str],
                         status: str) -> dict[str, Any]:
    for _ in range(600):  # the dead worker's heartbeat must first grow older than dead_after_seconds
        answer = await assistant(client, conversation_id, auth)
        if answer and answer["status"] == status:
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"the answer never became {status}: {answer}")


async def assistant(client: httpx.AsyncClient, conversation_id: str, auth: dict[str, str]) -> dict[str, Any] | None:
    messages = (await client.get(f"/api/messages/{conversation_id}", headers=auth)).json()["data"]
    answers = [m for m in messages if m["role"] == "assistant"]
    return answers[-1] if answers else None


@contextlib.asynccontextmanager
async def stored(data_dir: Path) -> AsyncIterator[SqlUnitOfWork]:
    uow = SqlUnitOfWork(f"sqlite+aiosqlite:///{data_dir / 'switchboard.db'}")
    try:
        yield uow
    finally:
        await uow.close()
