"""Mio-Chat resumes: a client that lost its socket mid-answer reconnects and sends the same
completions frame (same request_id) again; it gets that answer's frames from the start, then the
live tail — the model asked once, the answer charged once. Another user's same request_id is
their own question; after the end the same request_id gets the stored answer (faces/miochat/resume.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from switchboard.config.settings import StreamingSettings
from tests.integration.miochat.conftest import Mio, MioWs, Open, Start, logged_in
from tests.integration.native.conftest import ADMIN
from tests.support.upstream import Reply, ScriptedUpstream

WORDS = " ".join(f"w{n}" for n in range(30))
USAGE = (12, 30)
QUESTION = "a long story please"


def completion(request_id: str, text: str = QUESTION) -> dict[str, Any]:
    return {"protocol": "openai", "type": "completions", "request_id": request_id,
            "data": {"messages": [{"role": "user", "content": text}]}}


def text_of(frames: list[dict[str, Any]]) -> str:
    return "".join(f["data"]["chunk"] for f in frames if f.get("message") == "update")


def model_calls(upstream: ScriptedUpstream) -> int:
    return len([r for r in upstream.requests if r.path.endswith("/chat/completions")])


async def carol(mio: Mio) -> int:
    user_id = await mio.api.user("carol")
    await mio.key("carol")
    return user_id


async def tokens_of(mio: Mio, user_id: int) -> tuple[int, int]:
    quota = (await mio.api.client.get(f"/api/admin/users/{user_id}", headers=mio.api.auth(ADMIN.username))).json()
    return quota["data"]["tokens_used"], quota["data"]["tokens_reserved"]


async def left_mid_answer(mio: Mio, open_ws: Open, upstream: ScriptedUpstream, request_id: str) -> asyncio.Event:
    """carol asks; the model is held after its first words; carol's socket drops after three updates."""
    gate = asyncio.Event()
    upstream.push(Reply(text=WORDS, usage=USAGE, gate=gate, gate_after=4))
    ws = await logged_in(mio, open_ws, "carol")
    await ws.send(completion(request_id))
    updates = await ws.until(lambda f: len([s for s in ws.seen if s.get("message") == "update"]) == 3)
    assert next(f["message"] for f in updates if f.get("request_id") == request_id) == "pending"
    await ws.conn.close()
    return gate


async def resumed(ws: MioWs, request_id: str, gate: asyncio.Event | None = None) -> list[dict[str, Any]]:
    await ws.send(completion(request_id))
    first = await ws.until(lambda f: f.get("request_id") == request_id)
    if gate is not None:
        gate.set()  # the server has chosen (resume, or wrongly a new turn) before the model goes on
    rest = await ws.until(lambda f: f.get("request_id") == request_id and f.get("message") in ("completed", "failed"))
    return [f for f in first + rest if f.get("request_id") == request_id]


async def test_a_reconnected_client_gets_the_answer_from_its_start_then_the_tail(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio(app={"streaming": StreamingSettings(flush_seconds=0.05)})
    user_id = await carol(mio)
    gate = await left_mid_answer(mio, open_ws, upstream, "m1")

    frames = await resumed(await logged_in(mio, open_ws, "carol"), "m1", gate)

    assert frames[0]["message"] == "pending" and frames[-1]["message"] == "completed"
    assert [f["message"] for f in frames].count("pending") == 1
    assert text_of(frames) == WORDS, "every text delta exactly once, from the start"
    indexes = [f["data"]["index"] for f in frames if f["message"] == "update"]
    assert indexes == list(range(len(indexes)))
    assert model_calls(upstream) == 1
    assert await tokens_of(mio, user_id) == (sum(USAGE), 0)


async def test_another_users_same_request_id_is_their_own_question(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    await carol(mio)
    gate = await left_mid_answer(mio, open_ws, upstream, "m1")
    upstream.push(Reply(text="bob's own answer"))

    bob = await logged_in(mio, open_ws, "bob")
    frames = await bob.stream(completion("m1"))
    gate.set()

    assert text_of(frames) == "bob's own answer" and frames[-1]["message"] == "completed"
    assert model_calls(upstream) == 2


async def test_the_same_request_id_after_the_end_gets_the_stored_answer(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    user_id = await carol(mio)
    upstream.push(Reply(text=WORDS, usage=USAGE))
    ws = await logged_in(mio, open_ws, "carol")
    first = await ws.stream(completion("m1"))
    assert text_of(first) == WORDS

    again = await resumed(await logged_in(mio, open_ws, "carol"), "m1")

    assert again[0]["message"] == "pending" and again[-1]["message"] == "completed"
    assert text_of(again) == WORDS
    assert model_calls(upstream) == 1
    assert await tokens_of(mio, user_id) == (sum(USAGE), 0)


async def test_a_new_request_id_with_the_same_words_is_a_new_question(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    upstream.push(Reply(text="first"), Reply(text="second"))
    ws = await logged_in(mio, open_ws, "alice")
    assert text_of(await ws.stream(completion("m1", "hello"))) == "first"
    assert text_of(await ws.stream(completion("m2", "hello"))) == "second"
    assert model_calls(upstream) == 2


async def test_an_interrupt_stops_the_answer_at_once_not_after_the_grace_period(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio(app={"streaming": StreamingSettings(flush_seconds=0.05, resume_grace_seconds=60)})
    gate = asyncio.Event()
    upstream.push(Reply(text=WORDS, usage=USAGE, gate=gate, gate_after=4))
    ws = await logged_in(mio, open_ws, "alice")
    await ws.send(completion("m1"))
    await ws.until(lambda f: f.get("message") == "update")

    await ws.send({"protocol": "openai", "type": "interrupt", "request_id": "m1"})

    ended = await ws.until(lambda f: f.get("request_id") == "m1" and f.get("message") in ("completed", "failed"))
    assert ended[-1]["message"] == "failed"
    await upstream.wait_disconnect()  # the upstream call ended now, not a minute later
    gate.set()
