"""The shared scripted upstream itself: what other test suites rely on."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
from aiohttp import web

from tests.support.upstream import RECEIVED, Reply, ScriptedUpstream, ToolCallReply


async def post(upstream: ScriptedUpstream, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.post(upstream.base_url + path, json=body) as response:
            return response.status, await response.read()


def sse_payloads(raw: bytes) -> list[Any]:
    lines = [line[6:] for line in raw.split(b"\n") if line.startswith(b"data: ")]
    return [line.decode() if line == b"[DONE]" else orjson.loads(line) for line in lines]


async def test_non_streaming_reply_is_assembled(upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="Hi", reasoning="hmm", tool_calls=[ToolCallReply("f", '{"x": 1}', id="c1")],
                        usage=(7, 2)))
    status, raw = await post(upstream, "/chat/completions", {"model": "m", "messages": []})
    body = orjson.loads(raw)
    assert status == 200 and body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"]["content"] == "Hi" and choice["message"]["reasoning_content"] == "hmm"
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"x": 1}'}
    assert choice["finish_reason"] == "tool_calls"
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}


async def test_usage_chunk_only_when_asked(upstream: ScriptedUpstream) -> None:
    request = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "yo"}]}
    _, raw = await post(upstream, "/chat/completions", request)
    events = sse_payloads(raw)
    assert events[-1] == "[DONE]" and all("usage" not in e for e in events[:-1])
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1] if e["choices"]) == "Echo: yo"
    _, raw = await post(upstream, "/chat/completions", {**request, "stream_options": {"include_usage": True}})
    usage_chunk = sse_payloads(raw)[-2]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["completion_tokens"] > 0


async def test_error_status_with_openai_body(upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(status=429, headers={"Retry-After": "3"}))
    status, raw = await post(upstream, "/chat/completions", {"model": "m", "messages": []})
    assert status == 429 and orjson.loads(raw)["error"]["type"] == "rate_limit_error"


async def test_routes_can_be_added_at_runtime(upstream: ScriptedUpstream) -> None:
    async def moderations(up: ScriptedUpstream, request: web.Request, reply: Reply) -> web.StreamResponse:
        inputs = request[RECEIVED].json["input"]
        return web.json_response({"results": [{"flagged": False} for _ in inputs]})

    status, _ = await post(upstream, "/moderations", {"input": ["a"]})
    assert status == 404
    upstream.route("POST", "/v1/moderations", moderations)
    status, raw = await post(upstream, "/moderations", {"input": ["a", "b"]})
    assert status == 200 and len(orjson.loads(raw)["results"]) == 2
    assert [r.path for r in upstream.requests] == ["/v1/moderations", "/v1/moderations"]


async def test_a_finished_or_cut_stream_is_not_a_disconnect(upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="a b c"), Reply(text="a b c", fail_after_chunks=1))
    request = {"model": "m", "stream": True, "messages": []}
    await post(upstream, "/chat/completions", request)
    try:
        await post(upstream, "/chat/completions", request)
    except aiohttp.ClientPayloadError:
        pass
    assert upstream.disconnects == 0
