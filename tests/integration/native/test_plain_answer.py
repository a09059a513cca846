"""POST /api/messages (the answer when done) asks the upstream for the whole answer at once
(`"stream": false`, one JSON body) and stores it as a streamed one is stored; the SSE route still
streams. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from switchboard.config.settings import ProviderSettings
from tests.integration.native.conftest import Api, Start
from tests.support.app_settings import MODEL
from tests.support.upstream import Reply, ScriptedUpstream


async def send(api: Api, conversation_id: str, content: str = "hello") -> Any:
    body = {"conversation_id": conversation_id, "content": content}
    return await api.client.post("/api/messages", json=body, headers=api.auth("alice"))


async def test_a_plain_post_asks_for_the_whole_answer_and_stores_it_with_its_usage(
    start_native: Start, upstream: ScriptedUpstream, database_url: str
) -> None:
    api = await start_native(database_url=database_url)
    await api.user("alice")
    conversation = await api.conversation("alice")
    upstream.push(Reply(reasoning="let me think", text="Hello there friend", usage=(11, 4)))

    response = await send(api, conversation)

    assert response.status_code == 200, response.text
    sent = upstream.last.json
    assert sent["model"] == MODEL and sent["stream"] is False and "stream_options" not in sent
    assert upstream.last.headers["Accept"] == "application/json"
    answered = response.json()["data"]["assistant_message"]
    assert (answered["content"], answered["reasoning"], answered["status"]) == (
        "Hello there friend", "let me think", "completed")
    assert answered["usage"] == {"prompt_tokens": 11, "completion_tokens": 4}
    user, stored = await api.messages("alice", conversation)
    assert (user["content"], user["status"]) == ("hello", "completed")
    assert {k: stored[k] for k in ("id", "content", "reasoning", "status", "usage")} == {
        k: answered[k] for k in ("id", "content", "reasoning", "status", "usage")}
    usage = (await api.client.get("/api/usage", headers=api.auth("alice"))).json()["data"]["total"]
    assert usage == {"requests": 1, "prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15,
                     "estimated_requests": 0}


async def test_the_stream_route_still_streams(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice")
    body = {"conversation_id": conversation, "content": "hello"}
    async with api.client.stream("POST", "/api/messages/stream", json=body, headers=api.auth("alice")) as response:
        await response.aread()
    assert upstream.last.json["stream"] is True and upstream.last.json["stream_options"] == {"include_usage": True}


async def test_an_upstream_error_answers_502_with_the_providers_message_and_stores_the_failure(
    start_native: Start, upstream: ScriptedUpstream, database_url: str
) -> None:
    api = await start_native(database_url=database_url)
    await api.user("alice")
    conversation = await api.conversation("alice")
    refusal = Reply(status=500, error_body={"error": {"message": "the GPU caught fire"}})
    upstream.push(refusal, refusal)  # the first try and its one retry

    response = await send(api, conversation)

    assert response.status_code == 502, response.text
    body = response.json()
    assert body["code"] == "upstream_error" and "the GPU caught fire" in body["message"]
    assert len(upstream.requests) == 2 and all(r.json["stream"] is False for r in upstream.requests)
    user, answer = await api.messages("alice", conversation)
    assert (user["status"], answer["status"], answer["content"]) == ("completed", "failed", "")
    assert "the GPU caught fire" in answer["error"]


async def test_a_whole_answer_past_the_total_timeout_fails_cleanly(
    start_native: Start, upstream: ScriptedUpstream, tmp_path: Any
) -> None:
    slow = ProviderSettings(name="up", base_url=upstream.base_url, models=[MODEL], timeout=0.5,
                            first_byte_timeout=0.1, max_retries=0)
    api = await start_native(providers=[slow])
    await api.user("alice")
    conversation = await api.conversation("alice")
    upstream.push(Reply(text="too late", first_byte_delay=5.0))

    response = await send(api, conversation)

    assert response.status_code == 502, response.text
    assert response.json()["code"] == "upstream_timeout" and "total timeout" in response.json()["message"]
    answer = (await api.messages("alice", conversation))[-1]
    assert (answer["status"], answer["content"]) == ("failed", "")


async def test_a_malformed_whole_answer_fails_cleanly(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice")
    upstream.push(Reply(json_body={"object": "chat.completion", "choices": "nonsense"}))

    response = await send(api, conversation)

    assert response.status_code == 502, response.text
    assert "malformed answer" in response.json()["message"] and "Traceback" not in response.text
    assert (await api.messages("alice", conversation))[-1]["status"] == "failed"
