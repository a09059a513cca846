"""Issue 19 (3): with 550 tokens left, one /v1 call without max_tokens spent 3,001. The answer is
now capped to what the call holds (max_completion_tokens sent upstream), a stream whose provider
ignores the cap is ended with finish_reason "length", and the allowance is never overdrawn."""

from __future__ import annotations

import asyncio

import httpx
import orjson

from tests.support.gateway import MODEL, Start
from tests.support.upstream import Reply, ScriptedUpstream

LEFT = 550
LONG = " ".join(["word"] * 3000)  # 3,000 tokens if nobody stops it
ASK = [{"role": "user", "content": "tell me everything"}]


async def used(gw_runtime: object, user_id: int) -> tuple[int, int]:
    quota = await gw_runtime.services.quotas.quota(user_id)  # type: ignore[attr-defined]
    return quota.used, quota.reserved


async def test_a_call_without_max_tokens_is_capped_to_what_is_left(start_gateway: Start,
                                                                   upstream: ScriptedUpstream) -> None:
    gw = await start_gateway()
    user = await gw.new_user("bob", allowance=LEFT)
    key = await gw.new_key(user)
    upstream.obey_max_tokens = True  # as a real provider does
    upstream.push(Reply(text=LONG))
    async with gw.client(key) as client:
        answer = await client.chat.completions.create(model=MODEL, messages=ASK)  # type: ignore[arg-type]

    cap = upstream.last.json["max_completion_tokens"]
    assert 0 < cap < LEFT and "max_tokens" not in upstream.last.json
    assert answer.choices[0].finish_reason == "length"  # a finished, length-capped answer
    await gw.runtime.services.gateway.flush()
    spent, reserved = await used(gw.runtime, user)
    assert spent <= LEFT and reserved == 0


async def test_a_limit_above_the_hold_is_lowered_and_one_below_it_kept(start_gateway: Start,
                                                                      upstream: ScriptedUpstream) -> None:
    gw = await start_gateway()
    user = await gw.new_user("bob", allowance=LEFT)
    key = await gw.new_key(user)
    async with gw.client(key) as client:
        await client.chat.completions.create(model=MODEL, messages=ASK, max_tokens=100_000)  # type: ignore[arg-type]
        assert 0 < upstream.last.json["max_tokens"] < LEFT
        await client.chat.completions.create(model=MODEL, messages=ASK, max_tokens=20)  # type: ignore[arg-type]
        assert upstream.last.json["max_tokens"] == 20 and "max_completion_tokens" not in upstream.last.json


async def test_a_stream_whose_provider_ignores_the_cap_is_ended_at_the_hold(start_gateway: Start,
                                                                           upstream: ScriptedUpstream) -> None:
    gw = await start_gateway()
    user = await gw.new_user("bob", allowance=LEFT)
    key = await gw.new_key(user)
    # deaf to max_completion_tokens; holds after 1,000 chunks, so only a cut ends the answer
    upstream.push(Reply(text=LONG, gate=asyncio.Event(), gate_after=1000))
    body = {"model": MODEL, "messages": ASK, "stream": True}
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as client:
        response = await client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})

    events = [line[6:] for line in response.text.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    words = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]).split()
    assert len(words) < LEFT  # cut near the cap, not 3,000
    await upstream.wait_disconnect()  # the provider was told to stop
    await gw.runtime.services.gateway.flush()
    spent, reserved = await used(gw.runtime, user)
    assert spent <= LEFT and reserved == 0


async def test_a_call_that_ignores_the_cap_without_streaming_never_overdraws(start_gateway: Start,
                                                                            upstream: ScriptedUpstream) -> None:
    gw = await start_gateway()
    user = await gw.new_user("bob", allowance=LEFT)
    key = await gw.new_key(user)
    upstream.push(Reply(text=LONG))  # the provider reports ~3,000 tokens
    async with gw.client(key) as client:
        await client.chat.completions.create(model=MODEL, messages=ASK)  # type: ignore[arg-type]
    ledger = await gw.ledger()
    spent, reserved = await used(gw.runtime, user)
    assert ledger[-1]["tokens_completion"] >= 3000  # the ledger keeps what the provider reported
    assert spent == LEFT and reserved == 0  # the allowance is charged to its end, not beyond
