"""Two workers on one PostgreSQL and one Redis: an answer started on one is resumed on the other
(its events are kept in a Redis stream), every event once, in order, the model asked and the user
charged once; an answer that has ended on one comes back whole from the other."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from switchboard.config.settings import PasswordSettings, Settings, StreamingSettings
from tests.integration.native.conftest import Api
from tests.integration.native.resume_client import resume, start_and_leave, text_of
from tests.integration.native.test_streaming import settled
from tests.support.app_settings import app_settings
from tests.support.upstream import Reply, ScriptedUpstream

WORDS = " ".join(f"w{n}" for n in range(40))
USAGE = (12, 40)

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_workers_settings(tmp_path: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str) -> Settings:
    return app_settings(tmp_path / "shared", upstream, redis_url=redis_url, database_url=postgres_url,
                        streaming=StreamingSettings(flush_seconds=0.05),
                        passwords=PasswordSettings(time_cost=1, memory_cost_kib=1024, parallelism=1))


async def test_an_answer_started_on_one_worker_is_resumed_on_the_other(two_workers: tuple[Api, Api],
                                                                        upstream: ScriptedUpstream) -> None:
    one, two = two_workers
    user_id = await one.user("alice")
    two.tokens["alice"] = one.tokens["alice"]
    conversation = await one.conversation("alice")
    gate = asyncio.Event()
    upstream.push(Reply(text=WORDS, usage=USAGE, gate=gate, gate_after=4))
    body = {"conversation_id": conversation, "content": "a long story please"}
    seen = await start_and_leave(one.client, one.auth("alice"), body, texts_before_leaving=3)
    message_id = seen[0].data["message_id"]

    resuming = asyncio.create_task(resume(two.client, two.auth("alice"), message_id, seen[-1].id))
    gate.set()  # the rest is produced on worker one while the client listens on worker two
    response, rest = await resuming

    assert response.status_code == 200
    numbers = [f.id for f in seen + rest]
    assert numbers == sorted(set(numbers)) and text_of(seen) + text_of(rest) == WORDS
    assert rest[-1].name == "done" and rest[-1].data["content"] == WORDS
    assert (await settled(two, "alice", conversation, "completed"))["content"] == WORDS
    assert len([r for r in upstream.requests if r.path.endswith("/chat/completions")]) == 1
    quota = (await two.client.get(f"/api/admin/users/{user_id}", headers=two.auth("admin"))).json()["data"]
    assert (quota["tokens_used"], quota["tokens_reserved"]) == (sum(USAGE), 0)


async def test_an_answer_that_ended_on_one_worker_comes_back_whole_from_the_other(
    two_workers: tuple[Api, Api], upstream: ScriptedUpstream
) -> None:
    one, two = two_workers
    await one.user("alice")
    await one.user("mallory")
    two.tokens.update(one.tokens)
    conversation = await one.conversation("alice")
    upstream.push(Reply(text=WORDS, usage=USAGE))
    body = {"conversation_id": conversation, "content": "a story"}
    seen = await start_and_leave(one.client, one.auth("alice"), body, texts_before_leaving=1)
    await settled(one, "alice", conversation, "completed")

    _, from_start = await resume(two.client, two.auth("alice"), seen[0].data["message_id"], None)
    refused = await two.client.get(f"/api/messages/{seen[0].data['message_id']}/stream", headers=two.auth("mallory"))

    assert from_start[0].name == "start" and from_start[-1].name == "done"
    assert text_of(from_start) == WORDS
    assert refused.status_code == 404 and refused.json()["success"] is False


async def test_a_stop_asked_of_one_worker_ends_the_answer_running_on_the_other(
    two_workers: tuple[Api, Api], upstream: ScriptedUpstream
) -> None:
    one, two = two_workers
    await one.user("alice")
    two.tokens.update(one.tokens)
    conversation = await one.conversation("alice")
    gate = asyncio.Event()
    upstream.push(Reply(text=WORDS, usage=USAGE, gate=gate, gate_after=4))
    body = {"conversation_id": conversation, "content": "a long story please"}
    seen = await start_and_leave(one.client, one.auth("alice"), body, texts_before_leaving=3)

    stopped = await two.client.post(f"/api/messages/{seen[0].data['message_id']}/stop", headers=two.auth("alice"))

    assert stopped.status_code == 200
    await upstream.wait_disconnect()  # worker one heard it over Redis and stopped the upstream call
    answer = await settled(two, "alice", conversation, "interrupted")
    assert answer["content"].startswith("w0 w1 w2")
    gate.set()
