"""OpenAICompatProvider asked for a whole answer (ProviderCall.streamed False), against the
scripted OpenAI-compatible server on 127.0.0.1: one unstreamed POST, one list of events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from switchboard.adapters.providers.openai_compat import OpenAICompatProvider
from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.errors import UpstreamError, UpstreamTimeout
from switchboard.core.domain.events import Finish, ProviderEvent, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from tests.integration.providers.test_openai_compat import API_KEY, make_provider
from tests.support.upstream import CHAT_PATH, Reply, ScriptedUpstream, ToolCallReply


@pytest.fixture
async def provider(upstream: ScriptedUpstream) -> AsyncIterator[OpenAICompatProvider]:
    provider = make_provider(upstream.base_url)
    yield provider
    await provider.close()


def whole(text: str = "hi", tools: list[dict[str, Any]] | None = None, **options: Any) -> ProviderCall:
    return ProviderCall("gpt-test", [{"role": "user", "content": text}], options, tools or [], streamed=False)


async def lists(provider: OpenAICompatProvider, call: ProviderCall | None = None) -> list[list[ProviderEvent]]:
    return [events async for events in provider.stream(call or whole())]


async def test_a_whole_answer_is_one_unstreamed_post_and_one_list(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(reasoning="let me think", text="Hello brave new world", usage=(12, 4)))
    # a stream_options the client passed along would make OpenAI refuse an unstreamed request
    got = await lists(provider, whole("hi", temperature=0.3, stream_options={"include_usage": True}))
    assert got == [[ReasoningDelta("let me think"), TextDelta("Hello brave new world"), Finish("stop"), Usage(12, 4)]]
    sent = upstream.last.json
    assert sent["stream"] is False and "stream_options" not in sent
    assert sent["model"] == "gpt-test" and sent["temperature"] == 0.3 and "tools" not in sent
    assert upstream.last.headers["Accept"] == "application/json"
    assert upstream.last.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_tool_calls_come_whole_for_the_assembler(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(tool_calls=[ToolCallReply("get_weather", '{"city": "Paris"}', id="call_a"),
                                    ToolCallReply("get_time", '{"tz": "UTC"}', id="call_b")], usage=(8, 6)))
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    [events] = await lists(provider, whole("?", tools))
    assert events == [ToolCallDelta(0, "call_a", "get_weather", '{"city": "Paris"}'),
                      ToolCallDelta(1, "call_b", "get_time", '{"tz": "UTC"}'), Finish("tool_calls"), Usage(8, 6)]
    assert upstream.last.json["tools"] == tools


async def test_no_usage_reported_means_no_usage_event(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(text="ok", usage=None))
    assert await lists(provider) == [[TextDelta("ok"), Finish("stop")]]


async def test_a_server_error_is_retried_before_the_answer(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(status=503), Reply(text="second time lucky", usage=(1, 3)))
    assert await lists(provider) == [[TextDelta("second time lucky"), Finish("stop"), Usage(1, 3)]]
    assert len(upstream.requests) == 2 and all(r.json["stream"] is False for r in upstream.requests)


@pytest.mark.parametrize(("status", "words"), [(500, "provider failed \\(HTTP 500\\): the GPU caught fire"),
                                               (429, "rate limited by provider"),
                                               (400, "request refused \\(HTTP 400\\): the GPU caught fire")])
async def test_an_error_status_keeps_the_providers_message_after_the_retries(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider, status: int, words: str
) -> None:
    error = Reply(status=status, error_body={"error": {"message": "the GPU caught fire", "code": "boom"}})
    upstream.push(*[error] * 3)
    with pytest.raises(UpstreamError, match=words) as caught:
        await lists(provider)
    assert caught.value.status == status
    assert len(upstream.requests) == (1 if status == 400 else 3)


@pytest.mark.parametrize(("body", "words"), [
    ({"error": {"message": "model overloaded"}}, "failed: model overloaded"),
    ({"object": "chat.completion", "choices": []}, "without a choice"),
    ("not an object", "malformed answer"),
])
async def test_a_useless_body_is_an_upstream_error(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider, body: Any, words: str
) -> None:
    upstream.push(Reply(json_body=body))
    with pytest.raises(UpstreamError, match=words):
        await lists(provider)


async def test_a_body_that_is_not_json_is_an_upstream_error(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    async def broken(_: ScriptedUpstream, request: web.Request, reply: Reply) -> web.StreamResponse:
        return web.Response(body=b'{"choices": [{"message": {"content": "cut', content_type="application/json")

    upstream.route("POST", CHAT_PATH, broken)
    with pytest.raises(UpstreamError, match="malformed answer"):
        await lists(provider)


async def test_a_whole_answer_may_take_longer_than_the_first_byte_timeout(upstream: ScriptedUpstream) -> None:
    # its headers come only once it is written: only the total timeout bounds it
    upstream.push(Reply(text="slow but whole", first_byte_delay=0.5))
    provider = make_provider(upstream.base_url, first_byte_timeout=0.1)
    try:
        [events] = await lists(provider)
        assert TextDelta("slow but whole") in events
    finally:
        await provider.close()


async def test_the_total_timeout_bounds_a_whole_answer(upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="too late", first_byte_delay=10.0))
    provider = make_provider(upstream.base_url, timeout=0.3, first_byte_timeout=0.1)
    try:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout, match="total timeout"):
            await lists(provider)
        assert time.monotonic() - started < 5 and len(upstream.requests) == 1  # a timeout is not retried
    finally:
        await provider.close()


async def test_a_cancelled_consumer_disconnects_the_upstream(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.push(Reply(text="never read", first_byte_delay=10.0))
    task = asyncio.create_task(lists(provider))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await upstream.wait_disconnect(2.0)


async def test_the_connection_is_reused_after_whole_answers(
    upstream: ScriptedUpstream, provider: OpenAICompatProvider
) -> None:
    for _ in range(3):
        assert (await lists(provider, whole("again")))[0][0] == TextDelta("Echo: again")
    assert len({r.peer for r in upstream.requests}) == 1
    assert upstream.disconnects == 0
