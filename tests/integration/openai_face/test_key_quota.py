"""An API key with a token quota of its own (One API's per-key quota): every call made with a key
counts towards its total, in the ledger's transaction; a metered key's calls are held against its
quota, which is never overdrawn; a key whose quota is spent is refused with OpenAI's
insufficient_quota, while the user's other keys go on."""

from __future__ import annotations

import openai
import pytest

from switchboard.core.services.accounts.keys import KeyChange
from tests.support.gateway import MODEL, Start
from tests.support.upstream import Reply, ScriptedUpstream

ASK = [{"role": "user", "content": "hi"}]


async def test_a_key_is_refused_once_its_own_quota_is_spent(start_gateway: Start, upstream: ScriptedUpstream) -> None:
    gw = await start_gateway(auth_cache_seconds=0)  # every call reads the key's total afresh
    metered = await gw.new_key(token_quota=600)
    other = await gw.new_key()
    upstream.push(*[Reply(text="ok", usage=(400, 100)) for _ in range(3)])
    async with gw.client(metered) as client:
        await client.chat.completions.create(model=MODEL, messages=ASK)
        await gw.runtime.services.gateway.flush()  # 500 of 600 spent
        stream = await client.chat.completions.create(model=MODEL, messages=ASK, stream=True)
        async for _ in stream:
            pass
        await gw.runtime.services.gateway.flush()  # 600: charged what the quota had left, never overdrawn
        with pytest.raises(openai.RateLimitError, match="own token quota") as refused:
            await client.chat.completions.create(model=MODEL, messages=ASK)
        assert refused.value.body["type"] == "insufficient_quota"  # type: ignore[index]
        with pytest.raises(openai.RateLimitError, match="own token quota"):
            await client.embeddings.create(model=MODEL, input="hi")
    async with gw.client(other) as client:  # the user's allowance is not what ran out
        await client.chat.completions.create(model=MODEL, messages=ASK)
    await gw.runtime.services.gateway.flush()
    async with gw.runtime.uow() as tx:
        keys = {k.prefix: k for k in await tx.keys.list_for_user(gw.user_id)}
    assert (keys[metered[:10]].tokens_used, keys[metered[:10]].tokens_left) == (600, 0)
    assert (keys[other[:10]].tokens_used, keys[other[:10]].tokens_left) == (500, None)
    assert len(upstream.requests) == 3  # the refused calls never reached the provider


async def test_a_changed_quota_applies_at_once(start_gateway: Start, upstream: ScriptedUpstream) -> None:
    gw = await start_gateway(auth_cache_seconds=30)  # a change must not wait for the cache
    secret = await gw.new_key()
    upstream.push(Reply(text="ok", usage=(40, 10)), Reply(text="ok", usage=(40, 10)))
    accounts = gw.runtime.services.accounts
    access, _ = await accounts.login("alice", "password1")  # limits are changed from a login session
    owner = await accounts.principal_from_token(access.token)
    async with gw.client(secret) as client:
        await client.chat.completions.create(model=MODEL, messages=ASK)
        await gw.runtime.services.gateway.flush()
        async with gw.runtime.uow() as tx:
            (key,) = [k for k in await tx.keys.list_for_user(gw.user_id) if k.prefix == secret[:10]]

        capped = await gw.runtime.services.keys.change(owner, key.id, KeyChange(frozenset({"token_quota"}),
                                                                                token_quota=10))
        assert (capped.tokens_used, capped.tokens_left) == (50, 0)
        with pytest.raises(openai.RateLimitError, match="own token quota"):
            await client.chat.completions.create(model=MODEL, messages=ASK)
        raised = await gw.runtime.services.keys.change(owner, key.id, KeyChange(frozenset({"token_quota"}),
                                                                                token_quota=1000))
        assert raised.tokens_left == 950  # its clients go on with the same secret
        await client.chat.completions.create(model=MODEL, messages=ASK)


async def test_an_unmetered_key_counts_its_usage_too(start_gateway: Start, upstream: ScriptedUpstream) -> None:
    gw = await start_gateway()
    key = await gw.new_key()
    upstream.push(Reply(text="ok", usage=(7, 3)), Reply(text="ok", usage=(20, 5)))
    async with gw.client(key) as client:
        await client.chat.completions.create(model=MODEL, messages=ASK)
        await client.chat.completions.create(model=MODEL, messages=ASK, stream=True)
    ledger = await gw.ledger()
    async with gw.runtime.uow() as tx:
        (stored,) = [k for k in await tx.keys.list_for_user(gw.user_id) if k.prefix == key[:10]]
    assert stored.tokens_used == 35 == sum(r["tokens_prompt"] + r["tokens_completion"] for r in ledger
                                           if r["key_id"] == stored.id)
