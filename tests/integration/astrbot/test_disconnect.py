"""An AstrBot SSE client that hangs up mid-answer cancels the upstream call and the partial
answer is kept as `interrupted`, although the stream also listens for proactive messages (the
turn is read by a task of its own there, faces/astrbot/pushes.py)."""

from __future__ import annotations

import asyncio

import orjson

from switchboard.config.settings import StreamingSettings
from tests.contract.astrbot.harness import Start
from tests.support.upstream import Reply, ScriptedUpstream


async def test_hanging_up_cancels_the_upstream_and_keeps_the_text(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    # no grace period for the client to come back (tests/integration/astrbot/test_resume.py has one)
    astr = await start_astrbot(streaming=StreamingSettings(flush_seconds=0.05, resume_grace_seconds=0))
    upstream.push(Reply(text="once upon a time " * 50, chunks=100, chunk_delay=0.05))
    body = {"message": "tell me a long story", "username": "bob", "session_id": "hang-up"}
    async with astr.client.stream("POST", "/api/v1/chat", json=body, headers=astr.auth()) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and orjson.loads(line[6:])["type"] == "plain":
                break
    await upstream.wait_disconnect()
    token = {"Authorization": f"Bearer {astr.tokens['alice']}"}
    (conversation,) = (await astr.client.get("/api/conversations", headers=token)).json()["data"]["items"]
    for _ in range(50):  # the interrupted answer is written as the turn unwinds
        messages = (await astr.client.get(f"/api/messages/{conversation['id']}", headers=token)).json()["data"]
        if messages[-1]["status"] != "streaming":
            break
        await asyncio.sleep(0.05)
    assert messages[-1]["status"] == "interrupted" and messages[-1]["content"].startswith("once upon")
