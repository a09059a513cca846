"""AstrBot `/api/v1/chat`: a client that lost its stream mid-answer sends the same request again
(same session, same message) and gets that answer whole — not a second answer, not a second charge."""

from __future__ import annotations

import asyncio

import orjson

from tests.contract.astrbot.harness import Start, data_events
from tests.support.upstream import Reply, ScriptedUpstream

STORY = " ".join(f"w{n}" for n in range(30))


async def test_the_same_request_again_resumes_the_running_answer(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    astr = await start_astrbot()
    gate = asyncio.Event()
    upstream.push(Reply(text=STORY, gate=gate, gate_after=4))
    body = {"message": "tell me a story", "username": "bob", "session_id": "phone"}
    async with astr.client.stream("POST", "/api/v1/chat", json=body, headers=astr.auth()) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and orjson.loads(line[6:])["type"] == "plain":
                break  # the phone lost its network here

    async with astr.client.stream("POST", "/api/v1/chat", json=body, headers=astr.auth()) as response:
        lines = response.aiter_lines()
        first = await anext(lines)  # the server has chosen: resume (or, wrongly, a new turn)
        gate.set()
        raw = first + "\n" + "\n".join([line async for line in lines])

    events = data_events(raw)
    assert response.status_code == 200
    assert [e["type"] for e in events[:2]] == ["session_id", "user_message_saved"]
    assert events[0]["session_id"] == "phone"
    streamed = "".join(e["data"] for e in events if e["type"] == "plain" and e.get("chain_type") is None)
    complete = [e for e in events if e["type"] == "complete"]
    assert streamed == STORY and complete and complete[0]["data"] == STORY and events[-1]["type"] == "end"
    assert len([r for r in upstream.requests if r.path.endswith("/chat/completions")]) == 1
    token = {"Authorization": f"Bearer {astr.tokens['alice']}"}
    (conversation,) = (await astr.client.get("/api/conversations", headers=token)).json()["data"]["items"]
    messages = (await astr.client.get(f"/api/messages/{conversation['id']}", headers=token)).json()["data"]
    assert [(m["role"], m["status"]) for m in messages] == [("user", "completed"), ("assistant", "completed")]


async def test_another_message_in_the_session_is_a_new_turn(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(text="first answer"), Reply(text="second answer"))
    for message in ("one", "two"):
        response, raw = await astr.chat({"message": message, "username": "bob", "session_id": "s"})
        complete = [e for e in data_events(raw) if e["type"] == "complete"]
        assert response.status_code == 200 and complete
    assert complete[0]["data"] == "second answer"
    assert len([r for r in upstream.requests if r.path.endswith("/chat/completions")]) == 2


async def test_the_same_words_after_the_answer_ended_are_a_new_question(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(text="first answer"), Reply(text="second answer"))
    for _ in range(2):
        response, raw = await astr.chat({"message": "same words", "username": "bob", "session_id": "s"})
        assert response.status_code == 200
    assert [e["data"] for e in data_events(raw) if e["type"] == "complete"] == ["second answer"]
