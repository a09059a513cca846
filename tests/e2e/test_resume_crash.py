"""Issue 18, for real: two `serve` processes (two hosts) on one PostgreSQL and one Redis. A client
streams an answer from worker A; A is killed (`kill -9`) mid-answer; the client resumes on worker
B with its Last-Event-ID and gets every event A had produced that it missed, each once and in
order, then the end: once B has found A dead, the answer as stored — interrupted, with its words."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis

from tests.e2e.test_crash_recovery import assistant_when, environment, server
from tests.integration.native.resume_client import parse_frames, resume, text_of
from tests.support.redis_server import redis_url
from tests.support.upstream import Reply, ScriptedUpstream

WORDS = " ".join(f"w{i}" for i in range(400))

__all__ = ["redis_url"]  # the fixture

pytestmark = pytest.mark.postgres


async def test_kill_9_mid_stream_then_resume_on_the_other_worker(
    tmp_path: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str
) -> None:
    hosts = []
    for name in ("a", "b"):  # a data directory each, as on two hosts; the secret is in the database
        env = environment(tmp_path / name, upstream)
        env.update(SWITCHBOARD_DATABASE_URL=postgres_url, SWITCHBOARD_REDIS_URL=redis_url)
        hosts.append(env)
    upstream.push(Reply(text=WORDS, gate=asyncio.Event(), gate_after=30))  # stops after 30 chunks: A dies meanwhile

    async with server(hosts[0]) as (worker_a, base_a), server(hosts[1]) as (_, base_b), \
            httpx.AsyncClient(base_url=base_a, timeout=30) as a, httpx.AsyncClient(base_url=base_b, timeout=60) as b:
        await a.post("/api/auth/register", json={"username": "alice", "password": "a-long-password"})
        login = await a.post("/api/auth/login", json={"username": "alice", "password": "a-long-password"})
        alice = {"Authorization": "Bearer " + login.json()["data"]["access_token"]}
        conversation = (await a.post("/api/conversations/", json={"title": "t"}, headers=alice)).json()["data"]
        turn = {"conversation_id": conversation["id"], "content": "tell me a long story"}
        seen_raw: list[str] = []
        async with contextlib.AsyncExitStack() as streams:
            chat = await streams.enter_async_context(a.stream("POST", "/api/messages/stream", json=turn, headers=alice))
            lines = chat.aiter_lines()
            block: list[str] = []
            async for line in lines:  # 10 text events, then the client's connection "drops"
                block.append(line)
                if not line:
                    seen_raw.append("\n".join(block))
                    block = []
                    if sum("event: text" in b for b in seen_raw) >= 10:
                        break
            seen = parse_frames("\n\n".join(seen_raw) + "\n\n")
            await logged(redis_url, f"switchboard:answer:{conversation['id']}:{seen[0].data['message_id']}", 25)
            os.kill(worker_a.pid, signal.SIGKILL)
            await worker_a.wait()
            streams.pop_all()
            del lines
        message_id = seen[0].data["message_id"]

        response, rest = await resume(b, alice, message_id, seen[-1].id)

        assert response.status_code == 200
        numbers = [f.id for f in seen + rest]
        assert numbers == sorted(set(numbers)), "every event once, in order"
        streamed = text_of(seen) + text_of(rest)
        assert WORDS.startswith(streamed) and len(streamed.split()) >= 20, streamed  # A's 29 words, not just 10
        assert rest[-1].name == "error" and rest[-1].data["code"] == "interrupted"
        answer = await assistant_when(b, conversation["id"], alice, "interrupted")
        assert streamed.startswith(answer["content"])  # what A had flushed to the database (maybe nothing yet)


async def logged(redis_url: str, stream: str, events: int) -> None:
    """Waits until worker A has written that many events of the answer to Redis (it streamed 30
    chunks before the upstream held it), so the kill comes after them."""
    client = redis.Redis.from_url(redis_url)
    try:
        async with asyncio.timeout(30):
            while await client.xlen(stream) < events:  # noqa: ASYNC110 - another process writes it
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()
