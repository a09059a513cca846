"""OpenAICompatProvider against a real scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchboard.adapters.providers.openai_compat import OpenAICompatProvider
from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from switchboard.core.domain.events import (
    Finish,
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from tests.support.upstream import Reply, ScriptedUpstream, ToolCallReply

API_KEY = "sk-secret-test-key"


def make_provider(base_url: str, **overrides: Any) -> OpenAICompatProvider:
    options: dict[str, Any] = {
        "name": "scripted", "base_url": base_url, "api_key": API_KEY, "first_byte_timeout": 5.0,
        "idle_timeout": 5.0, "max_retries": 2, "retry_base_delay": 0.01,
    }
    options.update(overrides)
    return OpenAICompatProvider(**options)


@pytest.fixture
async def provider(upstream: ScriptedUpstream) -> AsyncIterator[OpenAICompatProvider]:
    provider = make_provider(upstream.base_url)
    yield provider
    await provider.close()


def call(text: str = "hi", **options: Any) -> ProviderCall:
    return ProviderCall(model="gpt-test", messages=[{"role": "user", "content": text}], options=options)


async def collect(provider: OpenAICompatProvider, the_call: ProviderCall | None = None) -> list[ProviderEvent]:
    return [event async for events in provider.stream(the_call or call()) for event in events]


def text_of(events: list[ProviderEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_streams_text_finish_and_usage(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(text="Hello brave new world", usage=(12, 4)))
    events = await collect(provider, call("hi", temperature=0.3))
    assert text_of(events) == "Hello brave new world"
    assert [e for e in events if not isinstance(e, TextDelta)] == [Finish("stop"), Usage(12, 4)]
    sent = upstream.last.json
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == "gpt-test" and sent["temperature"] == 0.3 and "tools" not in sent
    assert upstream.last.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_reasoning_comes_before_text(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(text="42", reasoning="let me think"))
    events = await collect(provider)
    reasoning = [e for e in events if isinstance(e, ReasoningDelta)]
    assert "".join(e.text for e in reasoning) == "let me think"
    assert events.index(reasoning[-1]) < events.index(next(e for e in events if isinstance(e, TextDelta)))


async def test_tool_call_deltas_assemble_by_index(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(tool_calls=[
        ToolCallReply("get_weather", '{"city": "Paris"}', id="call_a"),
        ToolCallReply("get_time", '{"tz": "UTC"}', id="call_b"),
    ]))
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    events = await collect(provider, ProviderCall("gpt-test", [{"role": "user", "content": "?"}], tools=tools))
    calls: dict[int, dict[str, str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            slot = calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
            slot["id"] += event.id or ""
            slot["name"] += event.name or ""
            slot["arguments"] += event.arguments
    assert calls == {
        0: {"id": "call_a", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        1: {"id": "call_b", "name": "get_time", "arguments": '{"tz": "UTC"}'},
    }
    assert sum(isinstance(e, ToolCallDelta) for e in events) > 4  # arguments came in pieces
    assert Finish("tool_calls") in events
    assert upstream.last.json["tools"] == tools


async def test_lines_split_across_network_chunks_and_keepalives(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(text="split into many tiny writes", write_size=7, keepalive=True, usage=(3, 5)))
    events = await collect(provider)
    assert text_of(events) == "split into many tiny writes"
    assert events[-1] == Usage(3, 5)


async def test_error_object_inside_the_stream(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(text="partial answer", stream_error="model overloaded"))
    received: list[ProviderEvent] = []
    with pytest.raises(UpstreamError, match="model overloaded") as caught:
        async for events in provider.stream(call()):
            received += events
    assert text_of(received) == "partial answer"
    assert "scripted" in caught.value.message


async def test_stream_cut_mid_way(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(text="one two three four", fail_after_chunks=2))
    with pytest.raises(UpstreamError, match="broke off"):
        await collect(provider)
    assert len(upstream.requests) == 1  # never retried once the response started


async def test_slow_first_byte_times_out(upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="late", first_byte_delay=10.0))
    provider = make_provider(upstream.base_url, first_byte_timeout=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout, match="first byte"):
            await collect(provider)
        assert time.monotonic() - started < 8  # gave up long before the 10 s answer
        assert len(upstream.requests) == 1
    finally:
        await provider.close()


async def test_silence_between_chunks_times_out(upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="slow words here", chunk_delay=1.0))
    provider = make_provider(upstream.base_url, idle_timeout=0.2, first_byte_timeout=0.5)
    try:
        with pytest.raises(UpstreamTimeout, match="idle"):
            await collect(provider)
    finally:
        await provider.close()


async def test_rate_limit_then_success_is_retried(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(status=429, headers={"Retry-After": "0"}), Reply(text="second time lucky"))
    events = await collect(provider)
    assert text_of(events) == "second time lucky"
    assert len(upstream.requests) == 2


async def test_server_errors_exhaust_retries(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(*[Reply(status=500)] * 3, Reply(text="never reached"))
    with pytest.raises(UpstreamError) as caught:
        await collect(provider)
    assert caught.value.status == 500 and caught.value.retryable
    assert len(upstream.requests) == 3  # first try + max_retries


async def test_rate_limit_exhausting_retries(upstream: ScriptedUpstream) -> None:
    upstream.push(*[Reply(status=429)] * 2)
    provider = make_provider(upstream.base_url, max_retries=1)
    try:
        with pytest.raises(UpstreamError, match="rate limited by provider") as caught:
            await collect(provider)
        assert caught.value.status == 429 and caught.value.retryable
    finally:
        await provider.close()


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key(upstream: ScriptedUpstream, provider: OpenAICompatProvider, status: int) -> None:
    upstream.push(Reply(status=status, error_body={"error": {"message": f"Incorrect API key {API_KEY}"}}))
    with pytest.raises(UpstreamError, match="rejected the API key") as caught:
        await collect(provider)
    assert caught.value.status == status and API_KEY not in caught.value.message
    assert len(upstream.requests) == 1


async def test_bad_request_keeps_the_providers_message(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(status=400, error_body={"error": {"message": "max_tokens is too large"}}))
    with pytest.raises(UpstreamError, match="max_tokens is too large") as caught:
        await collect(provider)
    assert caught.value.status == 400 and not caught.value.retryable
    assert len(upstream.requests) == 1


async def test_unknown_model_names_the_model(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(status=404))
    with pytest.raises(UpstreamError, match="model 'gpt-test'") as caught:
        await collect(provider)
    assert caught.value.status == 404


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = make_provider(f"http://127.0.0.1:{port}/v1", max_retries=1)
    try:
        with pytest.raises(UpstreamUnavailable, match="scripted") as caught:
            await collect(provider)
        assert API_KEY not in str(caught.value)
    finally:
        await provider.close()


async def test_early_close_disconnects_upstream(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(text=" ".join(["word"] * 50), chunk_delay=0.05))
    events = provider.stream(call())
    first = await anext(events)
    assert isinstance(first[0], TextDelta)
    await events.aclose()
    await upstream.wait_disconnect(2.0)
    assert upstream.disconnects == 1


async def test_cancelled_consumer_disconnects_upstream(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(text=" ".join(["word"] * 50), chunk_delay=0.05))
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in provider.stream(call()):
            got_one.set()

    task = asyncio.create_task(consume())
    await got_one.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await upstream.wait_disconnect(2.0)


async def test_connection_is_reused_after_a_complete_stream(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    for _ in range(3):
        assert text_of(await collect(provider, call("again"))) == "Echo: again"
    assert len({r.peer for r in upstream.requests}) == 1
    assert upstream.disconnects == 0


async def test_list_models(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.models = ["gpt-a", "gpt-b"]
    assert await provider.list_models() == ["gpt-a", "gpt-b"]
    assert upstream.last.method == "GET" and upstream.last.path == "/v1/models"


async def test_list_models_maps_errors(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(status=401), path="/v1/models")
    with pytest.raises(UpstreamError, match="rejected the API key"):
        await provider.list_models()


async def test_total_timeout(upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text=" ".join(["word"] * 40), chunk_delay=0.05))
    provider = make_provider(upstream.base_url, timeout=0.3)
    try:
        with pytest.raises(UpstreamTimeout, match="total timeout"):
            await collect(provider)
    finally:
        await provider.close()


async def test_no_usage_reported_means_no_usage_event(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(text="ok", usage=None))
    events = await collect(provider)
    assert text_of(events) == "ok" and events[-1] == Finish("stop")


async def test_connection_returns_to_the_pool_before_the_usage_event(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(text="first", usage=(1, 1)))
    events = provider.stream(call())
    while not isinstance((await anext(events))[-1], Usage):
        pass  # stop at the usage event without finishing or closing the iterator
    await collect(provider)
    assert upstream.requests[0].peer == upstream.requests[1].peer
    await events.aclose()
