"""A proxy client that hangs up mid-answer cancels the upstream call; the partial answer is kept."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from tests.contract.chatgpt_proxy.conftest import Proxy
from tests.support.upstream import Reply, ScriptedUpstream

CHAT = {"messages": [{"role": "user", "content": "tell me a long story"}]}


@pytest.mark.parametrize("suffix", ["/stream", "/sse"])
async def test_hanging_up_cancels_the_upstream(start_proxy, upstream: ScriptedUpstream, suffix: str) -> None:  # type: ignore[no-untyped-def]
    proxy: Proxy = await start_proxy()
    upstream.push(Reply(text="once upon a time " * 50, chunks=100, chunk_delay=0.05))
    async with proxy.client.stream("POST", f"/openai/chat{suffix}", json=CHAT, headers=proxy.auth("alice")) as r:
        lines = r.aiter_lines()
        first = await anext(lines)
        assert orjson.loads(first.removeprefix("data: "))["message"] == "continue"
    await upstream.wait_disconnect()
    (conversation,) = await proxy.conversations("alice")
    for _ in range(50):  # the interrupted answer is written as the turn unwinds
        messages = await proxy.messages("alice", conversation["id"])
        if messages[-1]["status"] != "streaming":
            break
        await asyncio.sleep(0.05)
    assert messages[-1]["status"] == "interrupted" and messages[-1]["content"].startswith("once upon")
