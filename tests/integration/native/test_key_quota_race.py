"""The attack of issue 19 (3): 50 concurrent calls with an API key that has 550 tokens of its own
quota left, on every face that chats, while the provider ignores the answer's length cap and
answers ~600 tokens each time. The key's quota is held like the user's allowance (one conditional
UPDATE), each answer is capped to its hold and stopped when the provider runs past it, and the
quota is never overdrawn: the key is charged at most 550 tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from switchboard.config.settings import GatewaySettings, ToolSettings
from tests.integration.native.conftest import Api, Start
from tests.support.upstream import Reply, ScriptedUpstream

CALLS, QUOTA = 50, 550
LONG = " ".join(["word"] * 600)  # ~600 tokens, one chunk each; the scripted upstream reports them


async def metered_key(api: Api, name: str) -> tuple[str, str]:
    created = await api.client.post("/api/keys", headers=api.auth("alice"), json={
        "name": name, "scopes": ["chat", "file", "config", "im"], "token_quota": QUOTA})
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"], created.json()["data"]["key"]


async def native_call(api: Api, key: str) -> int:
    auth = {"Authorization": f"Bearer {key}"}
    conversation = await api.client.post("/api/conversations/", json={"tools_enabled": False}, headers=auth)
    turn = {"conversation_id": conversation.json()["data"]["id"], "content": "tell me everything"}
    return (await api.client.post("/api/messages/", json=turn, headers=auth)).status_code


async def astrbot_call(api: Api, key: str) -> int:
    body = {"message": "tell me everything", "username": "alice", "enable_streaming": False}
    response = await api.client.post("/api/v1/chat", json=body, headers={"X-API-Key": key})
    refused = response.text.startswith("{") and response.json()["status"] == "error"  # else: the SSE answer
    return 429 if refused else response.status_code


async def proxy_call(api: Api, key: str) -> int:
    body = {"messages": [{"role": "user", "content": "tell me everything"}]}
    response = await api.client.post("/openai/chat", json=body, headers={"Authorization": f"Bearer {key}"})
    code = int(response.json()["code"])  # 0: answered; else the HTTP status
    return 200 if code == 0 else code


async def gateway_call(api: Api, key: str) -> int:
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": "tell me everything"}]}
    response = await api.client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
    return response.status_code


FACES: dict[str, Callable[[Api, str], Awaitable[int]]] = {
    "native": native_call, "astrbot": astrbot_call, "chatgpt_proxy": proxy_call, "openai": gateway_call,
}


@pytest.mark.parametrize("face", list(FACES))
async def test_fifty_concurrent_calls_never_overdraw_a_keys_quota(
    start_native: Start, upstream: ScriptedUpstream, database_url: str, face: str,
) -> None:
    # no tools: their descriptions, counted into every prompt, would not fit in 550 tokens
    api = await start_native(database_url=database_url, gateway=GatewaySettings(lease_tokens=2000),
                             tools=ToolSettings(allowed=[]))
    await api.user("alice")
    key_id, key = await metered_key(api, face)
    upstream.push(*(Reply(text=LONG) for _ in range(CALLS)))  # deaf to max_tokens

    statuses = await asyncio.gather(*(FACES[face](api, key) for _ in range(CALLS)))

    assert 200 in statuses and set(statuses) <= {200, 429}, statuses
    runtime = api.runtime
    assert runtime is not None
    await runtime.services.gateway.flush()
    async with runtime.uow() as tx:
        stored, alice = await tx.keys.get(key_id), await tx.users.by_username("alice")
        assert stored is not None and alice is not None
        quota = await tx.quotas.get(alice.id)
    assert stored.tokens_used <= QUOTA, f"overdrawn on {face}: {stored.tokens_used} of {QUOTA}"
    assert (stored.tokens_reserved, quota.reserved) == (0, 0)  # every hold settled: nothing left held


async def test_a_turn_whose_provider_ignores_the_cap_is_stopped_at_the_hold(
    start_native: Start, upstream: ScriptedUpstream,
) -> None:
    api = await start_native()
    user_id = await api.user("alice")
    await api.client.patch(f"/api/admin/users/{user_id}", json={"token_allowance": QUOTA}, headers=api.auth("admin"))
    upstream.push(Reply(text=" ".join(["word"] * 3000)))
    conversation = await api.conversation("alice", tools_enabled=False)
    async with api.client.stream("POST", "/api/messages/stream", headers=api.auth("alice"),
                                 json={"conversation_id": conversation, "content": "go on"}) as response:
        raw = (await response.aread()).decode()

    assert "event: done" in raw and "event: error" not in raw
    sent = upstream.last.json
    assert 0 < sent["max_tokens"] < QUOTA  # the answer was capped to the hold after the prompt
    [answer] = [m for m in await api.messages("alice", conversation) if m["role"] == "assistant"]
    assert len(answer["content"].split()) <= sent["max_tokens"] + 8  # stopped there, not at 3,000
    quota = (await api.client.get(f"/api/admin/users/{user_id}", headers=api.auth("admin"))).json()["data"]
    assert quota["tokens_used"] <= QUOTA and quota["tokens_reserved"] == 0
