"""How the streams behave on the wire: flushed as they come, heartbeats a client can swallow."""

from __future__ import annotations

import asyncio

import orjson

from switchboard.config.settings import StreamingSettings
from tests.contract.chatgpt_proxy.conftest import Proxy
from tests.support.upstream import Reply, ScriptedUpstream

COMPLETION = {"model": "text-davinci-003", "prompt": "Say this is a test"}


async def test_ndjson_heartbeat_is_an_empty_continue(start_proxy, upstream: ScriptedUpstream) -> None:  # type: ignore[no-untyped-def]
    proxy: Proxy = await start_proxy(streaming=StreamingSettings(heartbeat_seconds=0.1, flush_seconds=0.05))
    upstream.push(Reply(text="slow answer", chunks=["slow", " answer"], chunk_delay=0.45))
    response = await proxy.post("/openai/completions/stream", COMPLETION)
    objects = [orjson.loads(line) for line in response.text.splitlines()]  # every line parses
    assert {"code": 0, "data": "", "message": "continue"} in objects
    assert "".join(o["data"] for o in objects if o["message"] == "continue") == "slow answer"
    assert objects[-1] == {"code": 0, "data": "[DONE]", "message": "end"}


async def test_sse_heartbeat_is_a_comment(start_proxy, upstream: ScriptedUpstream) -> None:  # type: ignore[no-untyped-def]
    proxy: Proxy = await start_proxy(streaming=StreamingSettings(heartbeat_seconds=0.1, flush_seconds=0.05))
    upstream.push(Reply(text="slow answer", chunks=["slow", " answer"], chunk_delay=0.45))
    response = await proxy.post("/openai/completions/sse", COMPLETION)
    assert ": ping\n\n" in response.text


async def test_pieces_arrive_before_the_answer_ends(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    gate = asyncio.Event()  # the upstream holds " second" back until the test opens it
    upstream.push(Reply(text="first second", chunks=["first", " second"], gate=gate))
    async with proxy.client.stream("POST", "/openai/completions/stream", json=COMPLETION,
                                   headers=proxy.auth("alice")) as response:
        lines = response.aiter_lines()
        first = orjson.loads(await anext(lines))
        gate.set()
        rest = [orjson.loads(line) async for line in lines]
    # "first" reached the client while the upstream had not yet sent " second"
    assert first == {"code": 0, "data": "first", "message": "continue"}
    assert [o["data"] for o in rest if o["message"] == "continue"] == [" second"]
    assert rest[-1]["message"] == "end"
