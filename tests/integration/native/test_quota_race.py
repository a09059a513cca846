"""50 concurrent requests against an allowance that covers exactly 5 must never overspend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from switchboard.adapters.tokens.estimate import HeuristicTokenCounter
from switchboard.config.settings import QuotaSettings
from tests.integration.native.conftest import Start
from tests.support.upstream import Reply, ScriptedUpstream

REQUESTS, FITS, COMPLETION = 50, 5, 100
QUESTION = "hi"


async def race(start_native: Start, upstream: ScriptedUpstream, **settings: object) -> None:
    # every call holds prompt estimate + COMPLETION tokens, and reports exactly that much usage,
    # so what fits does not depend on the order in which the requests are served
    api = await start_native(quota=QuotaSettings(completion_reserve=COMPLETION, min_completion=COMPLETION),
                             **settings)
    user_id = await api.user("alice")
    prompt = HeuristicTokenCounter().count_messages([{"role": "user", "content": QUESTION}])
    per_call = prompt + COMPLETION
    patched = await api.client.patch(f"/api/admin/users/{user_id}", json={"token_allowance": FITS * per_call},
                                     headers=api.auth("admin"))
    assert patched.status_code == 200 and patched.json()["data"]["tokens_remaining"] == FITS * per_call
    # no tools: their descriptions would count towards the prompt estimate
    conversations = await asyncio.gather(*(api.conversation("alice", tools_enabled=False) for _ in range(REQUESTS)))
    upstream.push(*(Reply(text="ok", usage=(prompt, COMPLETION), first_byte_delay=0.05) for _ in range(REQUESTS)))

    async def send(conversation_id: str) -> tuple[int, dict[str, object]]:
        response = await api.client.post("/api/messages/", headers=api.auth("alice"),
                                         json={"conversation_id": conversation_id, "content": QUESTION})
        return response.status_code, response.json()

    results = await asyncio.gather(*(send(c) for c in conversations))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * FITS + [429] * (REQUESTS - FITS)
    for status, body in results:
        if status == 429:
            assert body["success"] is False and body["code"] == "quota_exceeded" and body["message"]
    assert len([r for r in upstream.requests if r.path.endswith("/chat/completions")]) == FITS
    quota = (await api.client.get(f"/api/admin/users/{user_id}", headers=api.auth("admin"))).json()["data"]
    assert quota["tokens_used"] == FITS * per_call <= quota["token_allowance"]
    assert (quota["tokens_reserved"], quota["tokens_remaining"]) == (0, 0)


async def test_the_quota_race_on_sqlite(start_native: Start, upstream: ScriptedUpstream) -> None:
    await race(start_native, upstream)


@pytest.mark.postgres
async def test_the_quota_race_on_postgresql(start_native: Start, upstream: ScriptedUpstream, postgres_url: str,
                                            tmp_path: Path) -> None:
    await race(start_native, upstream, database_url=postgres_url)
