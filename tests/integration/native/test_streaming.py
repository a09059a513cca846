"""The native face end to end over real HTTP: streaming, usage, upstream failures, disconnects."""

from __future__ import annotations

import asyncio
from typing import Any

from switchboard.config.settings import StreamingSettings
from tests.integration.native.conftest import Api, Start, parse_sse
from tests.support.app_settings import MODEL
from tests.support.upstream import Reply, ScriptedUpstream


async def stream(api: Api, who: str, conversation_id: str, content: str = "hello") -> tuple[Any, str]:
    body = {"conversation_id": conversation_id, "content": content}
    async with api.client.stream("POST", "/api/messages/stream", json=body, headers=api.auth(who)) as response:
        raw = (await response.aread()).decode()
    return response, raw


async def settled(api: Api, who: str, conversation_id: str, status: str) -> dict[str, Any]:
    """The conversation's last message once it has `status` (polled through the API)."""
    found: list[dict[str, Any]] = []
    for _ in range(250):
        found = await api.messages(who, conversation_id)
        if found and found[-1]["status"] == status:
            return found[-1]
        await asyncio.sleep(0.02)
    raise AssertionError(f"the last message never became {status}: {found[-1:]}")


async def test_a_streamed_answer_with_reasoning_arrives_in_order_and_is_stored(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice", title="新会话")
    upstream.push(Reply(reasoning="let me think", text="Hello there friend", usage=(11, 4)))

    response, raw = await stream(api, "alice", conversation)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache" and response.headers["x-accel-buffering"] == "no"
    frames = parse_sse(raw)
    names = [name for name, _ in frames]
    assert names[0] == "start" and names[-1] == "done"
    assert names.index("reasoning") < names.index("text")
    start, done = frames[0][1], frames[-1][1]
    assert "".join(d["delta"] for n, d in frames if n == "text") == "Hello there friend"
    assert "".join(d["delta"] for n, d in frames if n == "reasoning") == "let me think"
    assert all(d["message_id"] == start["message_id"] for n, d in frames if n in ("text", "reasoning"))
    assert done == {"message_id": start["message_id"], "content": "Hello there friend", "reasoning": "let me think",
                    "finish_reason": "stop", "usage": {"prompt_tokens": 11, "completion_tokens": 4}}
    sent = upstream.last.json
    assert sent["model"] == MODEL and sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "user", "content": "hello"}]

    user, answer = await api.messages("alice", conversation)
    assert (user["id"], user["content"], user["status"]) == (start["user_message_id"], "hello", "completed")
    assert (answer["id"], answer["status"], answer["content"], answer["reasoning"]) == (
        start["message_id"], "completed", "Hello there friend", "let me think")
    assert answer["usage"] == {"prompt_tokens": 11, "completion_tokens": 4}


async def test_usage_is_recorded_per_message_and_charged_to_the_user(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native()
    user_id = await api.user("alice")
    conversation = await api.conversation("alice")
    upstream.push(Reply(text="first", usage=(10, 3)), Reply(text="second", usage=(20, 5)))

    for text in ("one", "two"):
        response = await api.client.post("/api/messages/", json={"conversation_id": conversation, "content": text},
                                         headers=api.auth("alice"))
        assert response.status_code == 200, response.text

    answers = [m for m in await api.messages("alice", conversation) if m["role"] == "assistant"]
    assert [a["usage"] for a in answers] == [{"prompt_tokens": 10, "completion_tokens": 3},
                                             {"prompt_tokens": 20, "completion_tokens": 5}]
    seen_by_admin = (await api.client.get(f"/api/admin/users/{user_id}", headers=api.auth("admin"))).json()["data"]
    assert (seen_by_admin["tokens_used"], seen_by_admin["tokens_reserved"]) == (38, 0)


async def test_an_error_mid_stream_sends_an_error_event_and_keeps_the_partial_text_as_failed(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice")
    upstream.push(Reply(text="partial words here", stream_error="the model crashed"))

    response, raw = await stream(api, "alice", conversation)

    frames = parse_sse(raw)
    assert response.status_code == 200 and frames[-1][0] == "error"
    assert frames[-1][1]["code"] == "upstream_error" and "the model crashed" in frames[-1][1]["message"]
    assert "done" not in [name for name, _ in frames]
    answer = (await api.messages("alice", conversation))[-1]
    assert (answer["status"], answer["content"]) == ("failed", "partial words here")
    assert "the model crashed" in answer["error"]


async def test_a_slow_first_byte_gets_heartbeats_before_the_first_text(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native(streaming=StreamingSettings(flush_seconds=0.05, heartbeat_seconds=0.1))
    await api.user("alice")
    conversation = await api.conversation("alice")
    upstream.push(Reply(text="late but here", first_byte_delay=0.6))

    _, raw = await stream(api, "alice", conversation)

    names = [name for name, _ in parse_sse(raw)]
    assert "comment" in names and names.index("comment") < names.index("text")
    assert ": ping\n\n" in raw
    assert names[-1] == "done"


async def test_429_then_success_is_retried_before_anything_streams(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice")
    upstream.push(Reply(status=429, headers={"Retry-After": "0"}), Reply(text="worked the second time"))

    _, raw = await stream(api, "alice", conversation)

    frames = parse_sse(raw)
    assert frames[-1][0] == "done" and frames[-1][1]["content"] == "worked the second time"
    assert [r.path for r in upstream.requests] == ["/v1/chat/completions"] * 2
    assert "error" not in [name for name, _ in frames]


async def test_a_500_upstream_is_a_clean_502_envelope_and_a_failed_message(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice")
    upstream.push(Reply(status=500), Reply(status=500))  # the first try and its one retry

    response = await api.client.post("/api/messages/", json={"conversation_id": conversation, "content": "hi"},
                                     headers=api.auth("alice"))

    body = response.json()
    assert response.status_code == 502
    assert body["success"] is False and body["code"] == "upstream_error" and "Traceback" not in response.text
    assert set(body) == {"success", "message", "code"}
    user, answer = await api.messages("alice", conversation)
    assert (user["status"], answer["status"], answer["content"]) == ("completed", "failed", "")


async def test_a_client_disconnect_cancels_the_upstream_and_keeps_the_partial_answer_as_interrupted(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    # no grace period for a client to come back (tests/integration/native/test_resume.py has those)
    api = await start_native(streaming=StreamingSettings(flush_seconds=0.05, resume_grace_seconds=0))
    await api.user("alice")
    conversation = await api.conversation("alice")
    words = " ".join(f"w{n}" for n in range(200))
    upstream.push(Reply(text=words, chunk_delay=0.05))

    body = {"conversation_id": conversation, "content": "tell me a long story"}
    texts: list[str] = []
    async with api.client.stream("POST", "/api/messages/stream", json=body, headers=api.auth("alice")) as response:
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"delta"' in line:
                texts.append(line)
                if len(texts) == 3:
                    break  # leaving the block closes the connection mid-stream

    await upstream.wait_disconnect()
    answer = await settled(api, "alice", conversation, "interrupted")
    assert answer["content"].startswith("w0 w1 w2") and len(answer["content"]) < len(words)
    assert upstream.disconnects == 1
