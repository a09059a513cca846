"""Resumable answers over real HTTP: a client leaves mid-answer, comes back with `Last-Event-ID`
and gets every event it missed exactly once, in order, then the live tail; the model is asked once
and the answer charged once. Ended answers come back as the stored message."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from switchboard.config.settings import StreamingSettings
from tests.integration.native.conftest import Api, Start
from tests.integration.native.resume_client import Frame, parse_frames, resume, start_and_leave, text_of
from tests.integration.native.test_streaming import settled
from tests.support.upstream import Reply, ScriptedUpstream

WORDS = " ".join(f"w{n}" for n in range(40))
USAGE = (12, 40)


def streaming(**overrides: Any) -> StreamingSettings:
    return StreamingSettings(flush_seconds=0.05, **overrides)


async def left_mid_answer(api: Api, upstream: ScriptedUpstream) -> tuple[str, list[Frame], asyncio.Event]:
    """alice starts an answer held by the upstream after its first words, and leaves."""
    conversation = await api.conversation("alice")
    gate = asyncio.Event()
    upstream.push(Reply(text=WORDS, usage=USAGE, gate=gate, gate_after=4))
    body = {"conversation_id": conversation, "content": "a long story please"}
    seen = await start_and_leave(api.client, api.auth("alice"), body, texts_before_leaving=3)
    assert [f.name for f in seen] == ["start", "text", "text", "text"]
    return conversation, seen, gate


async def alice_left_mid_answer(
    start_native: Start, upstream: ScriptedUpstream
) -> tuple[Api, list[Frame], asyncio.Event]:
    """An app with default settings where alice has left an answer in the middle."""
    api = await start_native()
    await api.user("alice")
    _, seen, gate = await left_mid_answer(api, upstream)
    return api, seen, gate


def assert_whole_answer_once(seen: list[Frame], rest: list[Frame]) -> None:
    numbers = [f.id for f in seen + rest]
    assert numbers == sorted(set(numbers)), "every event once, in order"
    assert text_of(seen) + text_of(rest) == WORDS
    assert rest[-1].name == "done" and rest[-1].data["content"] == WORDS
    assert [f.name for f in rest].count("done") == 1


async def assert_charged_once(api: Api, user_id: int) -> None:
    quota = (await api.client.get(f"/api/admin/users/{user_id}", headers=api.auth("admin"))).json()["data"]
    assert (quota["tokens_used"], quota["tokens_reserved"]) == (sum(USAGE), 0)


async def test_a_client_that_left_gets_what_it_missed_then_the_tail(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native()  # cancel_on_disconnect on: the grace period keeps the answer going
    user_id = await api.user("alice")
    conversation, seen, gate = await left_mid_answer(api, upstream)
    gate.set()  # the model goes on while nobody listens

    response, rest = await resume(api.client, api.auth("alice"), seen[0].data["message_id"], seen[-1].id)

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert rest[0].id == seen[-1].id + 1 and all(f.data.get("message_id", seen[0].data["message_id"])
                                                  == seen[0].data["message_id"] for f in rest if f.name == "text")
    assert_whole_answer_once(seen, rest)
    answer = await settled(api, "alice", conversation, "completed")
    assert answer["content"] == WORDS
    assert len([r for r in upstream.requests if r.path.endswith("/chat/completions")]) == 1
    assert upstream.disconnects == 0
    await assert_charged_once(api, user_id)


async def test_a_resume_while_the_model_is_still_held_waits_for_the_tail(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native(streaming=streaming(cancel_on_disconnect=False))
    user_id = await api.user("alice")
    _, seen, gate = await left_mid_answer(api, upstream)

    resuming = asyncio.create_task(resume(api.client, api.auth("alice"), seen[0].data["message_id"], seen[-1].id))
    await asyncio.sleep(0.1)
    assert not resuming.done()  # nothing new yet: the resume is waiting on the live answer
    gate.set()
    response, rest = await resuming

    assert response.status_code == 200
    assert_whole_answer_once(seen, rest)
    await assert_charged_once(api, user_id)


async def test_the_query_parameter_works_like_the_header_and_no_id_replays_from_the_start(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api, seen, gate = await alice_left_mid_answer(start_native, upstream)
    gate.set()
    message_id = seen[0].data["message_id"]

    async with api.client.stream("GET", f"/api/messages/{message_id}/stream?last_event_id={seen[-1].id}",
                                 headers=api.auth("alice")) as response:
        by_query = parse_frames((await response.aread()).decode())
    _, from_start = await resume(api.client, api.auth("alice"), message_id, None)

    assert_whole_answer_once(seen, by_query)
    assert [f.id for f in from_start][:4] == [f.id for f in seen] and text_of(from_start) == WORDS


async def test_a_client_that_saw_the_end_gets_an_empty_stream(start_native: Start, upstream: ScriptedUpstream) -> None:
    api, seen, gate = await alice_left_mid_answer(start_native, upstream)
    gate.set()
    _, rest = await resume(api.client, api.auth("alice"), seen[0].data["message_id"], seen[-1].id)

    response, again = await resume(api.client, api.auth("alice"), seen[0].data["message_id"], rest[-1].id)

    assert response.status_code == 200 and again == []


async def test_after_the_log_expired_a_resume_gets_the_stored_message(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native(streaming=streaming(resume_ttl_seconds=0.3))
    await api.user("alice")
    conversation, seen, gate = await left_mid_answer(api, upstream)
    gate.set()
    await settled(api, "alice", conversation, "completed")
    await asyncio.sleep(0.5)  # past the log's time to live

    response, rest = await resume(api.client, api.auth("alice"), seen[0].data["message_id"], seen[-1].id)

    assert response.status_code == 200
    assert [f.name for f in rest] == ["start", "done"] and [f.id for f in rest] == [seen[-1].id + 1, seen[-1].id + 2]
    assert rest[0].data["message_id"] == seen[0].data["message_id"]
    assert rest[1].data["content"] == WORDS  # the whole stored answer, which the client shows in place


async def test_an_answer_nobody_comes_back_for_stops_after_the_grace_period(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native(streaming=streaming(resume_grace_seconds=0.2))
    await api.user("alice")
    conversation, seen, gate = await left_mid_answer(api, upstream)

    await upstream.wait_disconnect()  # the grace period ended: the upstream call is stopped
    answer = await settled(api, "alice", conversation, "interrupted")
    gate.set()
    _, rest = await resume(api.client, api.auth("alice"), seen[0].data["message_id"], seen[-1].id)

    assert answer["content"].startswith("w0 w1 w2")
    assert rest[-1].name == "error" and rest[-1].data["code"] == "interrupted"


async def test_ownership_and_bad_input_get_native_errors(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    await api.user("mallory")
    conversation, seen, gate = await left_mid_answer(api, upstream)
    gate.set()
    message_id = seen[0].data["message_id"]
    user_message_id = seen[0].data["user_message_id"]
    await settled(api, "alice", conversation, "completed")

    cases = [
        (api.auth("mallory"), message_id, {}, 404),  # someone else's answer
        (api.auth("alice"), 987654321, {}, 404),  # no such message
        (api.auth("alice"), user_message_id, {}, 404),  # a question is not an answer
        ({}, message_id, {}, 401),
        ({"Authorization": "Bearer nonsense"}, message_id, {}, 401),
        (api.auth("alice"), message_id, {"Last-Event-ID": "abc"}, 422),
        (api.auth("alice"), message_id, {"Last-Event-ID": "-1"}, 422),
        (api.auth("alice"), message_id, {"Last-Event-ID": str(2**70)}, 422),
    ]
    for headers, target, extra, status in cases:
        response = await api.client.get(f"/api/messages/{target}/stream", headers={**headers, **extra})
        body = response.json()
        assert (response.status_code, body["success"]) == (status, False), (target, extra, response.text)
        assert body["message"] and "Traceback" not in response.text
    assert (await api.client.get("/api/messages/0/stream", headers=api.auth("alice"))).status_code == 422


@pytest.mark.parametrize("cancel_on_disconnect", [True, False])
async def test_a_finished_answer_is_replayed_whole_to_a_late_client(
    start_native: Start, upstream: ScriptedUpstream, cancel_on_disconnect: bool
) -> None:
    api = await start_native(streaming=streaming(cancel_on_disconnect=cancel_on_disconnect))
    await api.user("alice")
    conversation, seen, gate = await left_mid_answer(api, upstream)
    gate.set()
    await settled(api, "alice", conversation, "completed")

    _, rest = await resume(api.client, api.auth("alice"), seen[0].data["message_id"], seen[-1].id)

    assert_whole_answer_once(seen, rest)


async def test_an_answer_a_client_came_back_for_outlives_the_grace_period(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native(streaming=streaming(resume_grace_seconds=1.0))
    user_id = await api.user("alice")
    _, seen, gate = await left_mid_answer(api, upstream)
    resuming = asyncio.create_task(resume(api.client, api.auth("alice"), seen[0].data["message_id"], seen[-1].id))

    await asyncio.sleep(1.5)  # past the grace period, the model still held: the resume keeps it going
    gate.set()
    _, rest = await resuming

    assert_whole_answer_once(seen, rest)
    assert upstream.disconnects == 0
    await assert_charged_once(api, user_id)


async def test_stop_ends_the_answer_at_once_and_a_resume_then_gets_the_end(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native()  # a 10 s grace period: only the Stop ends it this soon
    await api.user("alice")
    await api.user("mallory")
    conversation, seen, gate = await left_mid_answer(api, upstream)
    message_id = seen[0].data["message_id"]

    refused = await api.client.post(f"/api/messages/{message_id}/stop", headers=api.auth("mallory"))
    unknown = await api.client.post("/api/messages/987654321/stop", headers=api.auth("alice"))
    stopped = await api.client.post(f"/api/messages/{message_id}/stop", headers=api.auth("alice"))

    assert (refused.status_code, refused.json()["success"]) == (404, False)
    assert (unknown.status_code, unknown.json()["success"]) == (404, False)
    assert stopped.status_code == 200 and stopped.json()["success"] is True
    await upstream.wait_disconnect()
    answer = await settled(api, "alice", conversation, "interrupted")
    gate.set()
    _, rest = await resume(api.client, api.auth("alice"), message_id, seen[-1].id)
    assert answer["content"].startswith("w0 w1 w2")
    assert [f.name for f in rest] == ["error"] and rest[0].data["code"] == "interrupted"
    again = await api.client.post(f"/api/messages/{message_id}/stop", headers=api.auth("alice"))
    assert again.status_code == 200  # an ended answer: nothing to stop, not an error


async def test_a_resume_before_the_first_events_reach_the_log_still_gets_them(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api, seen, gate = await alice_left_mid_answer(start_native, upstream)
    answers = api.runtime.services.answers if api.runtime else None
    assert answers is not None
    await answers._log.close()  # as if the log had not received them yet: it fills again below

    resuming = asyncio.create_task(resume(api.client, api.auth("alice"), seen[0].data["message_id"], seen[-1].id))
    gate.set()
    response, rest = await resuming

    assert response.status_code == 200 and rest[-1].name == "done" and rest[-1].data["content"] == WORDS
