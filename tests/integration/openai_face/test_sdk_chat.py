"""The official openai SDK, async and sync, plain and streamed, against the gateway."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.support.gateway import MODEL, Gateway
from tests.support.upstream import Reply, ScriptedUpstream, ToolCallReply


async def test_plain_chat_passes_fields_both_ways(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="Hello there", reasoning="hmm", usage=(11, 2)))
    async with gw.client() as client:
        completion = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]}],
            temperature=0.2, top_p=0.9, max_completion_tokens=50, stop=["\n\n"], seed=7, n=1,
            response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
            logprobs=True, user="u-1", reasoning_effort="low", extra_body={"top_k": 5, "vendor_flag": True},
        )
    assert completion.choices[0].message.content == "Hello there"
    assert completion.choices[0].message.reasoning_content == "hmm"  # type: ignore[attr-defined]
    assert completion.id.startswith("chatcmpl-") and completion.usage and completion.usage.prompt_tokens == 11
    sent = upstream.last.json
    expected = {"temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 50, "stop": ["\n\n"], "seed": 7,
                "logprobs": True, "user": "u-1", "reasoning_effort": "low", "top_k": 5, "vendor_flag": True}
    for name, value in expected.items():
        assert sent[name] == value, name
    assert sent["response_format"]["type"] == "json_schema" and sent["messages"][0]["content"][1]["type"] == "image_url"
    assert "stream_options" not in sent
    [entry] = await gw.ledger()
    assert (entry["tokens_prompt"], entry["tokens_completion"], entry["source"]) == (11, 2, "chat")
    assert entry["key_id"] and not entry["estimated"]


async def test_stream_relays_chunks_and_hides_the_usage_it_asked_for(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="one two three", reasoning="why", usage=(5, 3)))
    async with gw.client() as client:
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "count"}], stream=True)
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)  # no extra usage chunk
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert upstream.last.json["stream_options"] == {"include_usage": True}
    [entry] = await gw.ledger()
    assert (entry["tokens_prompt"], entry["tokens_completion"]) == (5, 3)


async def test_stream_with_usage_requested_keeps_it(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="a b", usage=(4, 2)))
    async with gw.client() as client:
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True,
            stream_options={"include_usage": True})
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 6 and not chunks[-1].choices


async def test_tool_call_deltas_stream_through(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(tool_calls=[ToolCallReply("get_weather", '{"city": "Paris"}', id="call_1")]))
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    async with gw.client() as client:
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "weather?"}], stream=True, tools=tools,
            tool_choice="auto", parallel_tool_calls=False)
        calls = [c.choices[0].delta.tool_calls async for c in stream if c.choices and c.choices[0].delta.tool_calls]
    assert calls[0][0].id == "call_1" and calls[0][0].function.name == "get_weather"
    assert "".join(c[0].function.arguments or "" for c in calls) == '{"city": "Paris"}'
    sent = upstream.last.json
    assert sent["tools"] == tools and sent["tool_choice"] == "auto" and sent["parallel_tool_calls"] is False


async def test_sync_client_in_a_thread(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="sync hello"), Reply(text="sync stream"))

    def run() -> tuple[str, str]:
        with gw.sync_client() as client:
            plain = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "a"}])
            stream = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "b"}],
                                                    stream=True)
            streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        return plain.choices[0].message.content or "", streamed

    assert await asyncio.to_thread(run) == ("sync hello", "sync stream")


async def test_models_are_those_the_key_may_use(gw: Gateway) -> None:
    async with gw.client() as client:
        assert [m.id for m in (await client.models.list()).data] == [MODEL, "echo"]  # echo: the offline demo
        assert (await client.models.retrieve(MODEL)).id == MODEL
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("nope")
    limited = await gw.new_key(allowed_models=("other",))
    async with gw.client(limited) as client:
        assert (await client.models.list()).data == []
        with pytest.raises(openai.PermissionDeniedError) as denied:
            await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert denied.value.body["code"] == "model_not_allowed"  # type: ignore[index]
