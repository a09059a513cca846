"""/metrics shows what the core reports through its telemetry port: time to first token by face
and model, tokens in and out by model, model streams open now, provider errors and cool-downs,
and quota refusals — driven here through a native chat turn and /v1 calls to the scripted upstream."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from switchboard.config.settings import GatewaySettings, MetricsSettings
from tests.support.gateway import MODEL, Start
from tests.support.upstream import Reply, ScriptedUpstream

PUBLIC = MetricsSettings(public=True)
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def samples(text: str, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    """Sample `name` (e.g. switchboard_tokens_total) -> {its `labels`' values: value}."""
    return {tuple(sample.labels[label] for label in labels): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples if sample.name == name}


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


async def native_turn(client: httpx.AsyncClient, key: str, path: str = "/api/messages") -> httpx.Response:
    made = await client.post("/api/conversations/", json={}, headers=bearer(key))
    assert made.status_code == 201, made.text
    body = {"conversation_id": made.json()["data"]["id"], "content": "hi"}
    return await client.post(path, json=body, headers=bearer(key))


async def test_a_chat_turn_and_a_gateway_stream_are_timed_and_counted(
    start_gateway: Start, upstream: ScriptedUpstream,
) -> None:
    gw = await start_gateway(metrics=PUBLIC)
    upstream.push(Reply(text="hello there", usage=(11, 3)))
    upstream.push(Reply(text="hi back", usage=(7, 2)))
    upstream.push(Reply(text="whole", usage=(5, 1)))
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as client:
        answered = await native_turn(client, gw.key, "/api/messages/stream")
        assert answered.status_code == 200, answered.text
        streamed: dict[str, Any] = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
        async with client.stream("POST", "/v1/chat/completions", json=streamed, headers=bearer(gw.key)) as sse:
            assert sse.status_code == 200
            assert "[DONE]" in "".join([text async for text in sse.aiter_text()])
        # a plain turn asks for the whole answer: there is no first token to time, its tokens count
        assert (await native_turn(client, gw.key)).status_code == 200
        await gw.runtime.services.gateway.flush()
        text = await scrape(client)
    first_tokens = samples(text, "switchboard_time_to_first_token_seconds_count", "face", "model")
    assert first_tokens == {("native", MODEL): 1, ("openai", MODEL): 1}
    tokens = samples(text, "switchboard_tokens_total", "model", "direction")
    assert tokens == {(MODEL, "in"): 11 + 7 + 5, (MODEL, "out"): 3 + 2 + 1}
    assert samples(text, "switchboard_open_streams", "face") == {("native",): 0, ("openai",): 0}
    assert samples(text, "switchboard_provider_errors_total", "provider", "error") == {}
    assert samples(text, "switchboard_quota_refusals_total", "face", "reason") == {}


async def test_a_failing_provider_is_counted_and_its_cool_down_shown(
    start_gateway: Start, upstream: ScriptedUpstream,
) -> None:
    gw = await start_gateway(metrics=PUBLIC, provider={"max_retries": 0},
                             gateway=GatewaySettings(failures_to_cool=1, cooldown_seconds=600))
    upstream.push(Reply(status=500))
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as client:
        assert (await scrape(client)).count('switchboard_provider_state{provider="up0",state="routed"} 1.0') == 1
        failed = await client.post("/v1/chat/completions", json=CHAT, headers=bearer(gw.key))
        cooling = await client.post("/v1/chat/completions", json=CHAT, headers=bearer(gw.key))
        text = await scrape(client)
    assert failed.status_code >= 500 and cooling.status_code == 503
    errors = samples(text, "switchboard_provider_errors_total", "provider", "error")
    assert list(errors) == [("up0", "upstream_error")] and errors[("up0", "upstream_error")] == 1
    # the second call found the provider cooling: refused before any provider was asked
    assert samples(text, "switchboard_provider_cooldowns_total", "provider") == {("up0",): 1}
    assert samples(text, "switchboard_provider_state", "provider", "state")[("up0", "cooling")] == 1
    assert samples(text, "switchboard_open_streams", "face").get(("openai",), 0) == 0


async def test_quota_refusals_are_counted_by_face_and_whose_quota(start_gateway: Start) -> None:
    gw = await start_gateway(metrics=PUBLIC)
    poor = await gw.new_user("poor", allowance=1)
    poor_key = await gw.new_key(poor)
    keyed = await gw.new_key(token_quota=1)  # alice is unlimited; her key is not
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as client:
        refused = [
            (await client.post("/v1/chat/completions", json=CHAT, headers=bearer(poor_key))).status_code,
            (await native_turn(client, poor_key)).status_code,
            (await client.post("/v1/chat/completions", json=CHAT, headers=bearer(keyed))).status_code,
        ]
        text = await scrape(client)
    assert refused == [429, 429, 429]
    assert samples(text, "switchboard_quota_refusals_total", "face", "reason") == {
        ("openai", "user"): 1, ("native", "user"): 1, ("openai", "key"): 1}
    # nothing was answered, nothing charged
    assert samples(text, "switchboard_tokens_total", "model", "direction") == {}
