"""Errors in OpenAI's shape, fallback and cool-down, per-key limits, quotas, disconnects."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import openai
import pytest

from switchboard.config.settings import GatewaySettings
from tests.support.gateway import MODEL, Gateway, Start
from tests.support.upstream import Reply, ScriptedUpstream

ASK = [{"role": "user", "content": "hi"}]


async def test_errors_have_openai_shape_and_status(gw: Gateway, upstream: ScriptedUpstream) -> None:
    async with gw.client("sb-wrong") as client:
        with pytest.raises(openai.AuthenticationError) as bad_key:
            await client.chat.completions.create(model=MODEL, messages=ASK)
    assert bad_key.value.body == {"message": "invalid API key", "type": "invalid_request_error", "param": None,  # type: ignore[comparison-overlap]
                                  "code": "invalid_api_key"}
    async with gw.client() as client:
        with pytest.raises(openai.NotFoundError) as unknown:
            await client.chat.completions.create(model="no-such-model", messages=ASK)
        assert unknown.value.body["code"] == "model_not_found"  # type: ignore[index]
        with pytest.raises(openai.BadRequestError) as invalid:
            await client.chat.completions.create(model=MODEL, messages=[], temperature=5)
        assert invalid.value.body["type"] == "invalid_request_error"  # type: ignore[index]
        upstream.push(Reply(status=400, error_body={"error": {"message": "bad tool schema"}}))
        with pytest.raises(openai.BadRequestError, match="bad tool schema"):
            await client.chat.completions.create(model=MODEL, messages=ASK)
        upstream.push(*[Reply(status=500)] * 3)
        with pytest.raises(openai.InternalServerError) as failed:
            await client.chat.completions.create(model=MODEL, messages=ASK)
        assert failed.value.status_code == 502 and failed.value.body["type"] == "server_error"  # type: ignore[index]
    async with httpx.AsyncClient(base_url=gw.base_url) as http:
        auth = {"Authorization": f"Bearer {gw.key}"}
        broken = await http.post("/v1/chat/completions", content=b"{nope", headers=auth)
        assert broken.status_code == 400 and broken.json()["error"]["type"] == "invalid_request_error"
        unauthenticated = await http.get("/v1/models")
        assert unauthenticated.status_code == 401 and set(unauthenticated.json()["error"]) == {
            "message", "type", "param", "code"}


async def test_a_stream_failing_midway_ends_with_an_error_chunk(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="a b c d", fail_after_chunks=2), Reply(text="x y", stream_error="model overloaded"))
    async with gw.client() as client:
        for expected in ("broke off", "model overloaded"):
            stream = await client.chat.completions.create(model=MODEL, messages=ASK, stream=True)
            with pytest.raises(openai.APIError, match=expected):
                async for _ in stream:
                    pass
    entries = await gw.ledger()
    assert len(entries) == 2 and all(e["estimated"] for e in entries)


# long enough that the few calls made inside one cool-down never outlast it, even on a loaded CI machine
COOLDOWN = 4.0


async def test_falls_back_then_cools_down_a_failing_provider(start_gateway: Start) -> None:
    async with ScriptedUpstream() as bad, ScriptedUpstream() as good:
        gw = await start_gateway([bad, good], gateway=GatewaySettings(
            failures_to_cool=2, cooldown_seconds=COOLDOWN))
        bad.push(*[Reply(status=503)] * 10)
        async with gw.client() as client:
            for _ in range(40):  # the weighted draw tries the bad one first about every other call
                answer = await client.chat.completions.create(model=MODEL, messages=ASK)
                assert answer.choices[0].message.content == "Echo: hi"  # the good one took over
                if len(bad.requests) == 2:
                    break
            for _ in range(6):
                await client.chat.completions.create(model=MODEL, messages=ASK)
            assert len(bad.requests) == 2  # two failures, then it sat out
            await asyncio.sleep(COOLDOWN + 0.05)
            for _ in range(40):  # after the cool-down it is tried again (when the weighted draw picks it)
                await client.chat.completions.create(model=MODEL, messages=ASK)
                if len(bad.requests) == 3:
                    break
            for _ in range(3):  # it failed again: straight back to cooling, one failure was enough
                await client.chat.completions.create(model=MODEL, messages=ASK)
            assert len(bad.requests) == 3


async def test_every_provider_cooling_is_503(start_gateway: Start, upstream: ScriptedUpstream) -> None:
    gw = await start_gateway(gateway=GatewaySettings(failures_to_cool=1, cooldown_seconds=60))
    upstream.push(Reply(status=429))
    async with gw.client() as client:
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model=MODEL, messages=ASK)
        with pytest.raises(openai.InternalServerError) as cooling:
            await client.chat.completions.create(model=MODEL, messages=ASK)
    assert cooling.value.status_code == 503 and "cooling down" in cooling.value.message


async def test_weights_split_traffic(start_gateway: Start) -> None:
    async with ScriptedUpstream() as heavy, ScriptedUpstream() as light:
        gw = await start_gateway([heavy, light])
        async with gw.client() as client:
            await asyncio.gather(*(client.chat.completions.create(model=MODEL, messages=ASK) for _ in range(30)))
        assert len(heavy.requests) + len(light.requests) == 30 and heavy.requests and light.requests


async def test_aliases_rewrite_only_the_model(start_gateway: Start, upstream: ScriptedUpstream) -> None:
    gw = await start_gateway(model_aliases={"smart": MODEL})
    async with gw.client() as client:
        await client.chat.completions.create(model="smart", messages=ASK, stream=False, extra_body={"x_field": 1})
    assert upstream.last.json == {"model": MODEL, "messages": ASK, "stream": False, "x_field": 1}
    [entry] = await gw.ledger()
    assert entry["model"] == "smart"


def _mid_minute(gw: Gateway) -> None:
    """The limiters count in fixed one-minute windows: a test straddling the end of a minute would
    see its counts start again. Their clock is pinned to the middle of one (new keys each test)."""
    gw.runtime.services.gateway._limiter._clock = lambda: 1_900_000_030.0  # type: ignore[union-attr]


@pytest.mark.parametrize("redis", [False, True], ids=["memory", "redis"])
async def test_per_key_request_limit(start_gateway: Start, redis: bool) -> None:
    overrides = {"redis_url": "redis://127.0.0.1:6379/15"} if redis else {}
    gw = await start_gateway(**overrides)
    _mid_minute(gw)
    key = await gw.new_key(rpm_limit=2)
    async with gw.client(key) as client:
        for _ in range(2):
            await client.chat.completions.create(model=MODEL, messages=ASK)
        with pytest.raises(openai.RateLimitError) as limited:
            await client.chat.completions.create(model=MODEL, messages=ASK)
    assert limited.value.body["type"] == "requests"  # type: ignore[index]
    assert 1 <= int(limited.value.response.headers["Retry-After"]) <= 60
    async with gw.client() as other:  # another key of the same user is not limited
        await other.chat.completions.create(model=MODEL, messages=ASK)


@pytest.mark.parametrize("redis", [False, True], ids=["memory", "redis"])
async def test_per_key_token_limit(start_gateway: Start, upstream: ScriptedUpstream, redis: bool) -> None:
    overrides = {"redis_url": "redis://127.0.0.1:6379/15"} if redis else {}
    gw = await start_gateway(**overrides)
    _mid_minute(gw)
    key = await gw.new_key(tpm_limit=100)
    upstream.push(Reply(text="long", usage=(90, 20)))
    async with gw.client(key) as client:
        await client.chat.completions.create(model=MODEL, messages=ASK)
        await gw.runtime.services.gateway.flush()  # the spent tokens reach the limiter
        with pytest.raises(openai.RateLimitError, match="tokens per minute"):
            await client.chat.completions.create(model=MODEL, messages=ASK)


async def test_expired_key_is_refused(gw: Gateway) -> None:
    key = await gw.new_key()
    async with gw.runtime.uow() as tx:
        stored = next(k for k in await tx.keys.list_for_user(gw.user_id) if k.prefix == key[:10])
        stored.expires_at = gw.runtime.services.clock.now() - timedelta(seconds=1)
        await tx.keys.update(stored)
    async with gw.client(key) as client:
        with pytest.raises(openai.AuthenticationError, match="expired"):
            await client.models.list()


async def test_quota_exhaustion_mid_traffic(gw: Gateway, upstream: ScriptedUpstream) -> None:
    user = await gw.new_user("bob", allowance=3000)
    key = await gw.new_key(user)
    upstream.push(*[Reply(text="ok", usage=(400, 100)) for _ in range(40)])
    async with gw.client(key) as client:

        async def one() -> str:
            try:
                await client.chat.completions.create(model=MODEL, messages=ASK, max_tokens=100)
                return "ok"
            except openai.RateLimitError as exc:
                assert exc.body["type"] == "insufficient_quota"  # type: ignore[index]
                return "refused"

        outcomes = [await one() for _ in range(10)]
    served = outcomes.count("ok")
    assert outcomes == ["ok"] * served + ["refused"] * (10 - served)
    # the holds are small (the prompt's estimate + max_tokens); the provider reports 500 per call, so
    # the allowance runs out after 6 calls, or 7 if the 6th settlement was still being written
    assert served in (6, 7)
    await gw.runtime.services.gateway.flush()
    quota = await gw.runtime.services.quotas.quota(user)
    assert quota.reserved == 0 and quota.used == min(500 * served, 3000)  # never overdrawn


@pytest.mark.parametrize("lease_tokens", [100, 0])  # quota leases, and one reservation per call
async def test_concurrent_calls_of_a_limited_user_never_overspend(
    start_gateway: Start, upstream: ScriptedUpstream, lease_tokens: int,
) -> None:
    gw = await start_gateway(gateway=GatewaySettings(lease_tokens=lease_tokens))
    user = await gw.new_user("bob", allowance=600)
    key = await gw.new_key(user)
    # max_tokens=10 is also the least an answer may get, so every hold is the prompt's estimate + 10
    # or refused; each call spends 11 (within its hold): 60 calls want 660 of the 600
    upstream.push(*[Reply(text="ok", usage=(1, 10), chunk_delay=0.001) for _ in range(60)])
    async with gw.client(key) as client:

        async def one(i: int) -> bool:
            try:
                if i % 2:
                    stream = await client.chat.completions.create(model=MODEL, messages=ASK, max_tokens=10,
                                                                  stream=True)
                    async for _ in stream:
                        pass
                else:
                    await client.chat.completions.create(model=MODEL, messages=ASK, max_tokens=10)
                return True
            except openai.RateLimitError as exc:
                assert exc.body["type"] == "insufficient_quota"  # type: ignore[index]
                return False

        served = sum(await asyncio.gather(*(one(i) for i in range(60))))
    ledger = await gw.ledger()  # flushes: settlements written, leases given back
    quota = await gw.runtime.services.quotas.quota(user)
    assert 0 < served < 60 and len(ledger) == served
    assert quota.used == 11 * served <= 600 and quota.reserved == 0
    assert quota.used == sum(row["tokens_prompt"] + row["tokens_completion"] for row in ledger)
    await gw.runtime.services.gateway.close()
    assert (await gw.runtime.services.quotas.quota(user)).reserved == 0


async def test_client_leaving_mid_stream_cancels_and_settles(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text=" ".join(["word"] * 200), chunk_delay=0.02))
    async with httpx.AsyncClient(base_url=gw.base_url) as http:
        async with http.stream("POST", "/v1/chat/completions", headers={"Authorization": f"Bearer {gw.key}"},
                               json={"model": MODEL, "messages": ASK, "stream": True}) as response:
            seen = 0
            async for line in response.aiter_lines():
                seen += line.startswith("data:")
                if seen == 5:
                    break
    await upstream.wait_disconnect()
    for _ in range(100):
        if entries := await gw.ledger():
            break
        await asyncio.sleep(0.02)
    [entry] = entries
    assert entry["estimated"] and 4 <= entry["tokens_completion"] < 200
