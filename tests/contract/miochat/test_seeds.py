"""Every request of seed 000 (../shared/seeds/000-envelope-protocol.md), verbatim, answered without
an error: over HTTP at the path the document lists it under, and as a frame on the WebSocket
(`/api/gateway`, the login's frame first). Seed 002 is MuseBot's admin API (its /photo example
is replayed in the MuseBot face's contract tests): it has no Mio-Chat request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.miochat.conftest import Mio, Open, Start
from tests.support.upstream import Reply, ScriptedUpstream

SEED = json.loads((Path(__file__).parent / "fixtures" / "seed_000_requests.json").read_text())
REQUESTS: list[dict[str, Any]] = SEED["requests"]


def with_key(body: dict[str, Any], key: str) -> dict[str, Any]:
    text = json.dumps(body).replace("<key>", key)
    return dict(json.loads(text))


def answers(response_text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in response_text.splitlines() if line.strip()]


@pytest.mark.parametrize("request_", REQUESTS, ids=[r["path"] for r in REQUESTS])
async def test_each_request_over_http(start_mio: Start, upstream: ScriptedUpstream, request_: dict[str, Any]) -> None:
    mio = await start_mio()
    upstream.push(Reply(text="你好！"))
    response = await mio.api.client.post(request_["path"], headers=mio.headers("alice"),
                                         json=with_key(request_["body"], mio.keys["alice"]))
    assert response.status_code == 200, response.text
    for answer in answers(response.text):
        assert answer["code"] == 0 and answer.get("message") != "failed", orjson.dumps(answer).decode()


async def test_every_request_as_frames_on_one_socket(start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
                                                     ) -> None:
    mio: Mio = await start_mio()
    ws = await open_ws(mio.base_url.replace("http://", "ws://") + "/api/gateway")
    login = next(r for r in REQUESTS if r["path"] == "/api/system/login")
    assert (await ws.request(with_key(login["body"], mio.keys["alice"])))["code"] == 0
    for request_ in REQUESTS:
        if request_["path"] in ("/api/system/login", "/api/share"):  # share is HTTP only
            continue
        upstream.push(Reply(text="你好！"))
        _, protocol, type_ = request_["path"].rsplit("/", 2)
        frame = {"protocol": protocol, "type": type_, **request_["body"]}
        if type_ == "completions":
            frames = await ws.stream(frame)
            assert frames[-1]["message"] == "completed", frames
        else:
            reply = await ws.request(frame)
            assert reply["code"] == 0, (request_["path"], reply)


async def test_the_photo_case_reaches_the_model_and_is_answered(start_mio: Start, upstream: ScriptedUpstream) -> None:
    """Seed 000's /api/onebot/message sends text and a photo by URL: the bot answers, and the model
    is asked with both (the URL as the image; the provider fetches it)."""
    mio = await start_mio()
    upstream.push(Reply(text="一张图片"))
    photo = REQUESTS[0]
    response = await mio.api.client.post(photo["path"], headers=mio.headers("alice"), json=photo["body"])
    body = response.json()
    assert body["code"] == 0 and isinstance(body["data"]["message_id"], int)
    assert body["data"]["reply"]["data"]["content"]["message"] == [{"type": "text", "data": {"text": "一张图片"}}]
    assert upstream.last.json["messages"][-1]["content"] == [
        {"type": "text", "text": "Hello, world!"},
        {"type": "image_url", "image_url": {"url": "https://example.com/image.jpg"}}]


async def test_an_unknown_model_falls_back_only_to_a_model_the_key_may_use(start_mio: Start) -> None:
    """The default model stands in for a model that is gone, never past a key's allowed_models."""
    mio = await start_mio()
    made = await mio.api.client.post("/api/keys", headers=mio.api.auth("alice"), json={
        "name": "echo only", "scopes": ["chat"], "allowed_models": ["echo"]})
    assert made.status_code == 201, made.text
    completions = next(r for r in REQUESTS if r["path"] == "/api/openai/completions")
    refused = await mio.api.client.post(completions["path"], json=completions["body"], headers={
        "mio-chat-id": "echo-only", "mio-chat-token": made.json()["data"]["key"]})
    last = answers(refused.text)[-1]
    assert last["message"] == "failed" and "may not use" in last["data"]["reason"], last
