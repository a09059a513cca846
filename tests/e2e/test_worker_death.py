"""Issue 18, for real: `kill -9` host A while it holds a user's tokens (a stored turn's hold
mid-stream, a gateway quota lease mid-stream); host B, on the same PostgreSQL and Redis, sees A's
heartbeat stop and gives them back by itself, with no administrator: the user's allowance is whole
again but for the interrupted answer's estimate, charged once. `switchboard users release` still
works by hand afterwards (nothing left to free)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from switchboard.adapters.storage.tables import workers
from tests.e2e.test_crash_recovery import WORDS, assistant, environment, read_until
from tests.e2e.test_two_workers_quota import books, cli, new_conversation, sign_in, stored, two_hosts
from tests.support.redis_server import redis_url
from tests.support.upstream import Reply, ScriptedUpstream

__all__ = ["redis_url"]  # the fixture

pytestmark = pytest.mark.postgres

GATED_WORDS = 29  # the upstream's chunks before its gate (30), the opening role chunk aside
ALLOWANCE = 100_000  # environment()'s default: a limited user, so gateway calls lease blocks of it


async def worker_of(postgres_url: str, pid: int) -> str:
    async with stored(postgres_url) as uow, uow() as tx:
        connection = tx.quotas._connection  # type: ignore[attr-defined]
        return str((await connection.execute(select(workers.c.id).where(workers.c.pid == pid))).scalar_one())


async def all_flushed(client: httpx.AsyncClient, conversation_id: str, auth: dict[str, str]) -> str:
    """The answer's text once the periodic flush has stored all the upstream sent before its gate
    (so nothing more reaches the database before the kill)."""
    for _ in range(300):
        answer = await assistant(client, conversation_id, auth)
        if answer and len(answer["content"].split()) >= GATED_WORDS:
            return str(answer["content"])
        await asyncio.sleep(0.05)
    raise AssertionError("the streamed text was never flushed")


async def test_a_killed_host_s_holds_and_leases_are_released_by_the_other(
        tmp_path: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str) -> None:
    # both answers stop after 30 chunks and never go on: host A is killed meanwhile
    upstream.push(Reply(text=WORDS, gate=asyncio.Event(), gate_after=GATED_WORDS + 1),
                  Reply(text=WORDS, gate=asyncio.Event(), gate_after=GATED_WORDS + 1))
    defaults = {"SWITCHBOARD_QUOTA": "{}", "SWITCHBOARD_GATEWAY": "{}"}  # a whole answer, a lease kept 5 s idle
    async with two_hosts(tmp_path, upstream, postgres_url, redis_url, **defaults) as ((process_a, a), (_, b)), \
            httpx.AsyncClient(base_url=a, timeout=30) as host_a, httpx.AsyncClient(base_url=b, timeout=30) as host_b:
        auth = await sign_in(host_b, "alice")
        key = (await host_b.post("/api/keys", json={"name": "plain"}, headers=auth)).json()["data"]["key"]
        conversation = await new_conversation(host_b, auth)
        turn = {"conversation_id": conversation, "content": "tell me a long story"}
        gateway_call = {"model": "gpt-test", "stream": True, "messages": [{"role": "user", "content": "go"}]}
        async with host_a.stream("POST", "/api/messages/stream", json=turn, headers=auth) as chat, \
                host_a.stream("POST", "/v1/chat/completions", json=gateway_call,
                              headers={"Authorization": f"Bearer {key}"}) as relay:
            # the iterators stay referenced until the kill: a dropped one would hang up its stream
            chat_lines, relay_lines = chat.aiter_lines(), relay.aiter_lines()
            await read_until(chat_lines, "event: text", 20)
            await read_until(relay_lines, "data:", 20)
            partial = await all_flushed(host_b, conversation, auth)  # what survives the kill
            quota, _, held = await books(postgres_url, "alice")
            seen_from_b = (await host_b.get("/api/usage", headers=auth)).json()["data"]["tokens_remaining"]
            dead = await worker_of(postgres_url, process_a.pid)
            os.kill(process_a.pid, signal.SIGKILL)  # no shutdown, no settlement, no finally
            await process_a.wait()
            with pytest.raises(httpx.TransportError):  # the connections died with the host
                async for _ in chat_lines:
                    pass
            del relay_lines
        # what A held: the turn's hold and the lease, naming A; B saw the allowance reduced
        assert len(held) == 2 and {h.worker_id for h in held} == {dead}, held
        assert quota.reserved == sum(h.tokens for h in held) > 0 and seen_from_b == ALLOWANCE - quota.reserved

        for _ in range(300):  # B's sweep: once A's heartbeat is older than dead_after_seconds (2 s)
            quota, ledger, held = await books(postgres_url, "alice")
            if quota.reserved == 0 and not held:
                break
            await asyncio.sleep(0.05)
        remaining = (await host_b.get("/api/usage", headers=auth)).json()["data"]["tokens_remaining"]
        messages = (await host_b.get(f"/api/messages/{conversation}", headers=auth)).json()["data"]
        released = cli(environment(tmp_path / "host-b", upstream) | {"SWITCHBOARD_DATABASE_URL": postgres_url},
                       "users", "release", "alice")

    assert (quota.reserved, held) == (0, []), (quota, held)
    # the interrupted answer is charged its estimate, once; the gateway call in flight is not charged
    [answer] = [m for m in messages if m["role"] == "assistant"]
    [charged] = ledger
    assert answer["status"] == "interrupted" and answer["content"] == partial == WORDS[:len(partial)]
    assert charged.estimated and charged.message_id == answer["id"] and charged.tokens_completion >= 20
    assert quota.used == charged.tokens_prompt + charged.tokens_completion
    assert remaining == ALLOWANCE - quota.used
    assert released.returncode == 0 and "alice: released 0 reserved tokens" in released.stdout, released
