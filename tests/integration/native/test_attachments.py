"""Files attached to native messages: images reach the provider as OpenAI image parts (data URLs),
text files as their text, other files by name; the stored message lists them; unknown or someone
else's files are refused before anything is held or sent upstream."""

from __future__ import annotations

import base64
from typing import Any

from tests.integration.native.conftest import Api, Start, parse_sse
from tests.support.upstream import Reply, ScriptedUpstream
from tests.support.upstream_wire import PNG_PIXEL


async def upload(api: Api, who: str, name: str, mime: str, data: bytes) -> str:
    response = await api.client.post("/api/files", files={"file": (name, data, mime)}, headers=api.auth(who))
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def envelope(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["message"]
    return str(body["message"])


async def test_an_image_reaches_the_provider_as_an_image_part(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice")
    image = await upload(api, "alice", "cat.png", "image/png", PNG_PIXEL)
    notes = await upload(api, "alice", "notes.txt", "text/plain", b"remember the milk")
    upstream.push(Reply(text="a cat"))

    body = {"conversation_id": conversation, "content": "what is this?", "files": [image, {"file_id": notes}]}
    sent = await api.client.post("/api/messages", json=body, headers=api.auth("alice"))
    assert sent.status_code == 200, sent.text

    [question] = upstream.last.json["messages"]
    text, picture, named = question["content"]
    assert text == {"type": "text", "text": "what is this?"}
    assert picture == {"type": "image_url",
                       "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG_PIXEL).decode()}}
    # a text file is given as its text, after its name
    assert named["text"] == f"[attached file: notes.txt id={notes}]\nremember the milk"
    stored_question = (await api.messages("alice", conversation))[0]
    assert stored_question["files"] == [
        {"id": image, "name": "cat.png", "mime": "image/png", "size": len(PNG_PIXEL), "kind": "image"},
        {"id": notes, "name": "notes.txt", "mime": "text/plain", "size": 17, "kind": "file"}]
    assert sent.json()["data"]["user_message"]["files"] == stored_question["files"]


async def test_a_streamed_message_carries_images_too(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice")
    image = await upload(api, "alice", "cat.png", "image/png", PNG_PIXEL)
    body = {"conversation_id": conversation, "content": "", "files": [{"file_id": image}]}
    async with api.client.stream("POST", "/api/messages/stream", json=body, headers=api.auth("alice")) as response:
        frames = parse_sse((await response.aread()).decode())
    assert frames[-1][0] == "done", frames
    [question] = upstream.last.json["messages"]
    assert [part["type"] for part in question["content"]] == ["image_url"]

    older = {"conversation_id": conversation, "content": "again", "images": [{"file_id": image}]}
    sent = await api.client.post("/api/messages", json=older, headers=api.auth("alice"))
    assert sent.json()["data"]["user_message"]["files"] == [
        {"id": image, "name": "cat.png", "mime": "image/png", "size": len(PNG_PIXEL), "kind": "image"}]
    assert upstream.last.json["messages"][-1]["content"][1]["type"] == "image_url"


async def test_unknown_and_foreign_files_are_refused_before_the_provider(
    start_native: Start, upstream: ScriptedUpstream
) -> None:
    api = await start_native()
    await api.user("alice")
    await api.user("bob")
    conversation = await api.conversation("alice")
    bobs = await upload(api, "bob", "secret.png", "image/png", PNG_PIXEL)
    calls = len(upstream.requests)

    for path in ("/api/messages", "/api/messages/stream"):
        for files in ([bobs], ["file_nope"], [{"file_id": bobs}]):
            body = {"conversation_id": conversation, "content": "look", "files": files}
            response = await api.client.post(path, json=body, headers=api.auth("alice"))
            assert "not found" in envelope(response, 404)
        older_spelling = {"conversation_id": conversation, "content": "look", "images": [{"file_id": bobs}]}
        assert "not found" in envelope(await api.client.post(path, json=older_spelling, headers=api.auth("alice")), 404)
        malformed = {"conversation_id": conversation, "content": "look", "files": [{"id": 3}]}
        envelope(await api.client.post(path, json=malformed, headers=api.auth("alice")), 422)

    assert len(upstream.requests) == calls
    assert await api.messages("alice", conversation) == []


async def test_only_text_files_are_given_as_text(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    conversation = await api.conversation("alice")
    code = await upload(api, "alice", "main.py", "application/octet-stream", b"print('hi')")
    binary = await upload(api, "alice", "data.bin", "application/octet-stream", b"\x00\x01")
    fake_text = await upload(api, "alice", "fake.txt", "text/plain", b"\xff\xfe\x00")
    body = {"conversation_id": conversation, "content": "read these", "files": [code, binary, fake_text]}
    assert (await api.client.post("/api/messages", json=body, headers=api.auth("alice"))).status_code == 200
    [question] = upstream.last.json["messages"]
    texts = [part["text"] for part in question["content"][1:]]
    assert texts == [f"[attached file: main.py id={code}]\nprint('hi')", f"[attached file: data.bin id={binary}]",
                     f"[attached file: fake.txt id={fake_text}]"]
