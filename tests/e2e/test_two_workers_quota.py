"""Issue 18, for real: two `serve` processes (two hosts) on one PostgreSQL and one Redis share a
user's allowance. 50 concurrent stored chat turns and metered gateway calls, spread over both,
against an allowance for exactly 5 answers: never more than the allowance is spent, every answer
is charged exactly once, every refusal is the face's own quota error, and nothing fails with a 500."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.adapters.storage.tables import holds, usage_ledger
from switchboard.adapters.tokens.estimate import HeuristicTokenCounter
from switchboard.core.domain.quotas import Quota
from tests.e2e.test_crash_recovery import environment, server
from tests.support.redis_server import redis_url
from tests.support.serve_process import SWITCHBOARD
from tests.support.upstream import Reply, ScriptedUpstream

__all__ = ["redis_url"]  # the fixture

pytestmark = pytest.mark.postgres

ANSWER = "one two three four five six seven eight nine ten"
COMPLETION = 10  # the scripted answers' completion tokens, and the hold's answer budget
NATIVE_TURNS, GATEWAY_CALLS = 40, 10
PASSWORD = "a-long-password"


def shared_environment(data_dir: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str,
                       **extra: str) -> dict[str, str]:
    """One host's environment: its own data directory, the shared database and Redis. A hold is
    the prompt estimate plus exactly COMPLETION tokens, so an answer's hold is its whole cost."""
    return environment(data_dir, upstream) | {
        "SWITCHBOARD_DATABASE_URL": postgres_url, "SWITCHBOARD_REDIS_URL": redis_url,
        "SWITCHBOARD_QUOTA": f'{{"completion_reserve": {COMPLETION}, "min_completion": {COMPLETION}}}',
        "SWITCHBOARD_GATEWAY": '{"lease_idle_seconds": 0.5}', **extra}


@contextlib.asynccontextmanager
async def two_hosts(tmp_path: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str,
                    **extra: str) -> AsyncIterator[tuple[tuple[asyncio.subprocess.Process, str], ...]]:
    env_a = shared_environment(tmp_path / "host-a", upstream, postgres_url, redis_url, **extra)
    env_b = shared_environment(tmp_path / "host-b", upstream, postgres_url, redis_url, **extra)
    async with server(env_a) as a, server(env_b) as b:  # one after the other: the first migrates
        yield a, b


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SWITCHBOARD, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


async def sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    await client.post("/api/auth/register", json={"username": username, "password": PASSWORD})
    login = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": "Bearer " + login.json()["data"]["access_token"]}


async def new_conversation(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    created = await client.post("/api/conversations/", json={"title": "t"}, headers=auth)
    assert created.status_code in (200, 201), created.text
    return str(created.json()["data"]["id"])


async def prompt_of_a_turn(client: httpx.AsyncClient, upstream: ScriptedUpstream) -> list[dict[str, Any]]:
    """The messages a one-line turn sends upstream (another user's turn): the gateway calls send
    the same, so every call's prompt estimate, and so its cost, is the same."""
    auth = await sign_in(client, "calibrator")
    turn = {"conversation_id": await new_conversation(client, auth), "content": "hi"}
    assert (await client.post("/api/messages", json=turn, headers=auth)).status_code == 200
    messages: list[dict[str, Any]] = upstream.last.json["messages"]
    return messages


@contextlib.asynccontextmanager
async def stored(postgres_url: str) -> AsyncIterator[SqlUnitOfWork]:
    uow = SqlUnitOfWork(postgres_url)
    try:
        yield uow
    finally:
        await uow.close()


async def books(postgres_url: str, username: str) -> tuple[Quota, list[Any], list[Any]]:
    """The user's quota row, ledger entries and stored holds, read from the database."""
    async with stored(postgres_url) as uow, uow() as tx:
        user = await tx.users.by_username(username)
        assert user is not None
        quota = await tx.quotas.get(user.id)
        connection = tx.quotas._connection  # type: ignore[attr-defined]
        ledger = (await connection.execute(select(usage_ledger).where(usage_ledger.c.user_id == user.id))).all()
        held = (await connection.execute(select(holds).where(holds.c.user_id == user.id))).all()
    return quota, list(ledger), list(held)


async def settled_books(postgres_url: str, username: str) -> tuple[Quota, list[Any]]:
    """Once nothing is reserved any more (a gateway lease goes back after its idle time)."""
    for _ in range(200):
        quota, ledger, held = await books(postgres_url, username)
        if quota.reserved == 0 and not held:
            return quota, ledger
        await asyncio.sleep(0.05)
    raise AssertionError(f"tokens stayed reserved: {quota}, {held}")


async def test_fifty_concurrent_turns_on_two_hosts_never_overspend(
        tmp_path: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str) -> None:
    async with two_hosts(tmp_path, upstream, postgres_url, redis_url) as ((_, a), (_, b)), \
            httpx.AsyncClient(base_url=a, timeout=30) as host_a, httpx.AsyncClient(base_url=b, timeout=30) as host_b:
        prompt = await prompt_of_a_turn(host_a, upstream)
        prompt_tokens = HeuristicTokenCounter().count_messages(prompt)
        cost = prompt_tokens + COMPLETION
        auth = await sign_in(host_b, "alice")
        # from the default 100000 down to an allowance for exactly 5 answers
        adjusted = cli(environment(tmp_path / "host-a", upstream) | {"SWITCHBOARD_DATABASE_URL": postgres_url},
                       "users", "allowance", "alice", "--add", str(5 * cost - 100_000))
        assert adjusted.returncode == 0, adjusted.stderr
        key = (await host_a.post("/api/keys", json={"name": "metered", "token_quota": 100_000},
                                 headers=auth)).json()["data"]["key"]
        hosts = (host_a, host_b)
        # a fresh conversation each (no history): every turn's prompt is the calibrated one
        conversations = await asyncio.gather(*(new_conversation(hosts[i % 2], auth) for i in range(NATIVE_TURNS + 6)))
        upstream.push(*(Reply(text=ANSWER, usage=(prompt_tokens, COMPLETION))
                        for _ in range(NATIVE_TURNS + GATEWAY_CALLS)))

        async def native(i: int) -> httpx.Response:
            turn = {"conversation_id": conversations[i], "content": "hi"}
            return await hosts[i % 2].post("/api/messages", json=turn, headers=auth)

        async def gateway(i: int) -> httpx.Response:
            body = {"model": "gpt-test", "messages": prompt}
            return await hosts[i % 2].post("/v1/chat/completions", json=body,
                                           headers={"Authorization": f"Bearer {key}"})

        # mixed in one burst: a gateway call every fifth
        calls = [gateway(i // 5) if i % 5 == 0 else native(i - i // 5 - 1) for i in range(NATIVE_TURNS + GATEWAY_CALLS)]
        answers = await asyncio.gather(*calls)
        native_answers = [r for i, r in enumerate(answers) if i % 5]
        gateway_answers = answers[::5]
        await settled_books(postgres_url, "alice")
        # then one at a time until refused: what the burst left is exactly what the 5 answers left
        later = []
        for i in range(6):
            later.append(await native(NATIVE_TURNS + i))
            if later[-1].status_code != 200:
                break
        quota, ledger = await settled_books(postgres_url, "alice")
        usage = (await host_a.get("/api/usage", headers=auth)).json()["data"]

    statuses = sorted(r.status_code for r in [*native_answers, *gateway_answers])
    assert set(statuses) <= {200, 429}, statuses
    for refused in (r for r in native_answers if r.status_code == 429):
        assert refused.json()["success"] is False and refused.json()["code"] == "quota_exceeded", refused.text
    for refused in (r for r in gateway_answers if r.status_code == 429):
        assert refused.json()["error"]["code"] == "insufficient_quota", refused.text
    answered = statuses.count(200)
    assert [r.status_code for r in later] == [200] * (5 - answered) + [429], [r.text for r in later]
    # never past the allowance; all 5 answers fit (no hold was left stuck by a refusal)
    assert quota.allowance == 5 * cost and quota.used == quota.allowance
    assert 1 <= answered <= 5
    # each answer charged exactly once, for what it cost, and nothing else
    assert len(ledger) == 5 and all(e.tokens_prompt + e.tokens_completion == cost for e in ledger), ledger
    assert usage["tokens_remaining"] == 0
    for answer in (r for r in [*native_answers, *later] if r.status_code == 200):
        assert answer.json()["data"]["assistant_message"]["content"] == ANSWER
