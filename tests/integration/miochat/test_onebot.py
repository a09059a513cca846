"""The onebot protocol: the web user's messages go to the bot, its replies come back as pushes."""

from __future__ import annotations

import base64
from typing import Any

from tests.integration.miochat.conftest import Mio, MioWs, Open, Start, logged_in
from tests.support.upstream import PNG_PIXEL, Reply, ScriptedUpstream

PNG_URI = "data:image/png;base64," + base64.b64encode(PNG_PIXEL).decode()


def onebot(request_id: int, contact: str, *segments: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": request_id, "protocol": "onebot",
            "data": {"id": contact, "type": "message", "data": {"message": list(segments), "message_id": request_id}}}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": value}}


async def pushed(ws: MioWs) -> dict[str, Any]:
    return (await ws.until(lambda f: f.get("protocol") == "onebot"))[-1]


async def history(mio: Mio, who: str) -> list[dict[str, Any]]:
    auth = {"Authorization": f"Bearer {mio.keys[who]}"}
    items = (await mio.api.client.get("/api/conversations", headers=auth)).json()["data"]["items"]
    conversation = next(c["id"] for c in items if c["title"].startswith("Mio-Chat"))
    return list((await mio.api.client.get(f"/api/messages/{conversation}", headers=auth)).json()["data"])


async def test_a_message_with_an_image_reaches_the_bot_and_its_reply_is_pushed(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    ws = await logged_in(mio, open_ws, "alice")
    upstream.push(Reply(text="A tiny picture."))
    await ws.send(onebot(1234567890, "10000", text("what is this?"), {"type": "image", "data": {"image": PNG_URI}}))
    ack = await ws.recv()
    assert ack["request_id"] == 1234567890 and ack["code"] == 0 and isinstance(ack["data"]["message_id"], int)
    push = await pushed(ws)
    reply_id = push["data"]["message_id"]
    assert push["data"] == {"id": "10000", "type": "message", "message_id": reply_id, "content": {
        "message": [{"type": "text", "data": {"text": "A tiny picture."}}], "message_id": reply_id}}
    content = upstream.last.json["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "what is this?"}
    assert content[1]["image_url"]["url"] == PNG_URI  # stored as a file, sent as a data URI
    stored = await history(mio, "alice")
    assert [m["id"] for m in stored] == [ack["data"]["message_id"], reply_id]


async def test_one_conversation_per_contact_carries_the_history(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    ws = await logged_in(mio, open_ws, "alice")
    upstream.push(Reply(text="first answer"), Reply(text="second answer"))
    await ws.send(onebot(1, "bot", text("first")))
    await pushed(ws)
    await ws.send(onebot(2, "bot", text("second")))
    await pushed(ws)
    assert [m["content"] for m in upstream.last.json["messages"]] == ["first", "first answer", "second"]


async def test_del_message_deletes_from_history_and_checks_the_owner(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    alice, bob = await logged_in(mio, open_ws, "alice"), await logged_in(mio, open_ws, "bob")
    await alice.send(onebot(1, "bot", text("hello")))
    reply_id = (await pushed(alice))["data"]["message_id"]
    stolen = await bob.request({"request_id": 2, "protocol": "onebot", "data": {
        "id": "bot", "type": "del_message", "content": {"message_id": str(reply_id)}}})
    # another user's message: nothing deleted, and the same answer as for a missing one
    assert stolen == {"request_id": 2, "code": 0, "message": "success", "data": {}}
    assert [m["id"] for m in await history(mio, "alice")] == [reply_id - 1, reply_id]
    deleted = await alice.request({"request_id": 3, "protocol": "onebot", "data": {
        "id": "bot", "type": "del_message", "content": {"message_id": str(reply_id)}}})
    assert deleted == {"request_id": 3, "code": 0, "message": "success", "data": {}}
    assert [m["id"] for m in await history(mio, "alice")] == [reply_id - 1]


async def test_forward_msg_pushes_a_nodes_segment(start_mio: Start, open_ws: Open, upstream: ScriptedUpstream) -> None:
    mio = await start_mio()
    ws = await logged_in(mio, open_ws, "alice")
    upstream.push(Reply(text="the answer"))
    await ws.send(onebot(1, "bot", text("question")))
    reply_id = (await pushed(ws))["data"]["message_id"]
    await ws.send({"request_id": 2, "protocol": "onebot", "data": {"id": "friend", "type": "forward_msg", "content": [
        {"message_id": reply_id, "message": []}, {"message_id": None, "message": [text("my note")]}]}})
    push = await pushed(ws)
    assert push["data"]["id"] == "friend" and push["data"]["content"]["message"] == [{"type": "nodes", "data": {
        "messages": [[{"type": "text", "data": {"text": "the answer"}}], [text("my note")]]}}]
    ack = await ws.recv()
    assert ack["request_id"] == 2 and ack["code"] == 0
    # a message that is not stored, or is another user's, forwards as an empty node: the same
    # answer either way, so the ids of others' messages cannot be probed (nor their text read)
    bob = await logged_in(mio, open_ws, "bob")
    for who, message_id in ((ws, 999999), (bob, reply_id)):
        await who.send({"request_id": 3, "protocol": "onebot", "data": {
            "id": "friend", "type": "forward_msg", "content": [{"message_id": message_id, "message": []}]}})
        assert (await pushed(who))["data"]["content"]["message"] == [{"type": "nodes", "data": {"messages": [[]]}}]


async def test_proactive_messages_arrive_as_pushes(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio()
    key = await mio.key("alice", ["chat", "im"])
    alice, bob = await logged_in(mio, open_ws, "alice"), await logged_in(mio, open_ws, "bob")
    response = await mio.api.client.post("/api/v1/im/message", headers={"Authorization": f"Bearer {key}"},
                                         json={"umo": "miochat:FriendMessage:10000", "message": "早上好"})
    assert response.status_code == 200, response.text
    push = await pushed(alice)
    assert push["data"]["id"] == "10000"
    assert push["data"]["content"]["message"] == [{"type": "text", "data": {"text": "早上好"}}]
    assert (await bob.request({"protocol": "system", "type": "heartbeat", "request_id": 1, "data": {}}))["code"] == 0
    assert all(f.get("protocol") != "onebot" for f in bob.seen)
