"""What AstrBot's real clients send and expect, beyond the OpenAPI document (issue 17), each in
the client's own words: the seed document's own examples, AstrBot's answers for an unknown
attachment and a failed model, the lenient chat message, proactive messages into an open SSE
stream, and the newer `/api/v1/chat/configs` path."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import orjson

from tests.contract.astrbot.golden import check_json
from tests.contract.astrbot.harness import MODEL, Astr, Start, data_events
from tests.support.upstream import Reply, ScriptedUpstream

SEED = json.loads((Path(__file__).parent / "fixtures" / "003-open-api.openapi.json").read_text())


def seed_examples(path: str) -> dict[str, dict[str, Any]]:
    content = SEED["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in content["examples"].items()}


async def seed_astrbot(start_astrbot: Start) -> Astr:
    # what an operator configures for these clients: the model they select is served (here an alias)
    return await start_astrbot(model_aliases={"gpt-4.1-mini": MODEL})


async def test_every_chat_example_of_the_document_is_answered(start_astrbot: Start) -> None:
    """Including `multipartMessage`, whose file part names an attachment no server has: AstrBot's
    chat drops what it cannot use and answers the rest."""
    astr = await seed_astrbot(start_astrbot)
    for name, body in seed_examples("/api/v1/chat").items():
        response, raw = await astr.chat(body)
        events = data_events(raw)
        assert response.status_code == 200 and raw.startswith("data: "), (name, raw)
        assert [e["type"] for e in events][-1] == "end" and "error" not in [e["type"] for e in events], (name, raw)


async def test_every_im_message_example_of_the_document_is_answered(start_astrbot: Start) -> None:
    """`im/message` stays strict (as AstrBot's is): the chain example's attachment must exist, so
    the client uploads it first, as the document says, and sends its id."""
    astr = await seed_astrbot(start_astrbot)
    uploaded = await astr.client.post("/api/v1/file", headers=astr.auth(),
                                      files={"file": ("cat.png", b"\x89PNG\r\n\x1a\n....", "image/png")})
    attachment = uploaded.json()["data"]["attachment_id"]
    examples = seed_examples("/api/v1/im/message")
    for name, body in examples.items():
        sent = json.loads(json.dumps(body).replace("9a2f8c72-e7af-4c0e-b352-111111111111", attachment))
        response = await astr.client.post("/api/v1/im/message", json=sent, headers=astr.auth())
        assert response.json() == {"status": "ok", "message": None, "data": {}}, name
    unknown = await astr.client.post("/api/v1/im/message", json=examples["chain"], headers=astr.auth())
    assert unknown.json() == {"status": "error", "data": None,
                              "message": "attachment not found: 9a2f8c72-e7af-4c0e-b352-111111111111"}


async def test_the_chat_drops_parts_it_cannot_use(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(text="ok"))
    _, raw = await astr.chat({"username": "alice", "session_id": "lenient", "message": [
        {"type": "plain", "text": "Please analyze this file"}, {"type": "file", "attachment_id": "file_unknown"},
        {"type": "sticker", "text": "?"}, {"type": "image"}, {"type": "record", "path": "/etc/passwd"}]})
    assert data_events(raw)[-1]["type"] == "end"
    assert upstream.last.json["messages"][-1] == {"role": "user", "content": "Please analyze this file"}
    nothing_left = await astr.client.post("/api/v1/chat", headers=astr.auth(), json={
        "username": "alice", "message": [{"type": "file", "attachment_id": "file_unknown"}, {"type": "video"}]})
    check_json("chat_error_nothing_usable.json", nothing_left.status_code, nothing_left.json())


async def test_an_unknown_attachment_is_a_business_error_with_null_data(start_astrbot: Start) -> None:
    """AstrBot: HTTP 200 `{"status":"error","message":"Attachment not found","data":null}`; every
    error envelope carries `data: null`, which seed-era clients read."""
    astr = await start_astrbot()
    response = await astr.client.get("/api/v1/file", params={"attachment_id": "9a2f8c72"}, headers=astr.auth())
    assert (response.status_code, response.json()) == (
        200, {"status": "error", "message": "Attachment not found", "data": None})
    refused = await astr.client.get("/api/v1/file", params={"attachment_id": "x"})
    assert (refused.status_code, refused.json()) == (401, {"status": "error", "message": "Missing API key",
                                                           "data": None})


async def test_chat_configs_is_the_newer_path_of_configs(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    older = await astr.client.get("/api/v1/configs", headers=astr.auth())
    newer = await astr.client.get("/api/v1/chat/configs", headers=astr.auth())
    assert newer.status_code == 200 and newer.json() == older.json()
    chat_only = await astr.key("alice", ["chat"])
    assert (await astr.client.get("/api/v1/chat/configs", headers={"X-API-Key": chat_only})).status_code == 403


async def test_a_wrong_method_is_405_with_allow(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    for method, path, allowed in (("GET", "/api/v1/chat", {"POST"}), ("DELETE", "/api/v1/file", {"GET", "POST"}),
                                  ("POST", "/api/v1/chat/configs", {"GET"})):
        response = await astr.client.request(method, path, headers=astr.auth())
        assert response.status_code == 405 and response.json()["status"] == "error", path
        assert {m.strip() for m in response.headers["allow"].split(",")} - {"HEAD"} == allowed, path


async def test_a_proactive_message_reaches_the_sessions_open_sse_stream(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    """AstrBot delivers `im/message` to the clients attached to the webchat session: an SSE
    chat stream of that session is one, as much as a WebSocket."""
    astr = await start_astrbot()
    gate = asyncio.Event()  # the model holds its answer back until the push went through
    upstream.push(Reply(text="the answer", chunks=["the", " answer"], gate=gate, gate_after=1))
    events: list[dict[str, Any]] = []
    body = {"message": "hi", "username": "bob", "session_id": "live:1"}
    async with astr.client.stream("POST", "/api/v1/chat", json=body, headers=astr.auth()) as response:
        lines = response.aiter_lines()
        async for line in lines:
            if line.startswith("data: "):
                events.append(orjson.loads(line[6:]))
                if events[-1]["type"] == "user_message_saved":
                    break
        other = await astr.client.post("/api/v1/im/message", headers=astr.auth(), json={
            "umo": "webchat:FriendMessage:other", "message": "not for this stream"})
        sent = await astr.client.post("/api/v1/im/message", headers=astr.auth(), json={
            "umo": "webchat:FriendMessage:live:1", "message": "ping from api key"})
        assert other.json()["status"] == sent.json()["status"] == "ok"
        async for line in lines:
            if line.startswith("data: "):
                events.append(orjson.loads(line[6:]))
                if events[-1]["type"] == "complete":
                    break
        gate.set()
        events += [orjson.loads(line[6:]) async for line in lines if line.startswith("data: ")]
    pushed = events[2:4]
    assert [(e["type"], e["data"], e["session_id"]) for e in pushed] == [
        ("plain", "ping from api key", "live:1"), ("complete", "ping from api key", "live:1")]
    assert "not for this stream" not in json.dumps(events)
    assert [e["type"] for e in events[-4:]] == ["agent_stats", "complete", "message_saved", "end"]
    assert "".join(e["data"] for e in events[4:] if e["type"] == "plain") == "the answer"
