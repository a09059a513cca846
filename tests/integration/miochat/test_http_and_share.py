"""The envelopes over HTTP POST, and sharing a conversation (page, PNG card, revocation)."""

from __future__ import annotations

import io

import orjson
import pytest
from PIL import Image

from switchboard.faces.miochat.preview import CardLine, cjk_font_path, render_card
from tests.integration.miochat.conftest import Mio, Start
from tests.support.upstream import Reply, ScriptedUpstream


def mio_headers(mio: Mio, who: str) -> dict[str, str]:
    return mio.headers(who)


async def test_http_login_heartbeat_models_and_errors(start_mio: Start) -> None:
    mio = await start_mio()
    client = mio.api.client
    credentials = {"mio-chat-id": "w", "mio-chat-token": mio.keys["alice"]}
    login = await client.post("/api/system/login", json={"protocol": "system", "type": "login", "request_id": 1,
                                                        "data": credentials})
    assert login.status_code == 200 and login.json()["request_id"] == 1 and login.json()["data"]["is_admin"] is False
    bad = await client.post("/api/system/login", json={"request_id": 2, "data": {**credentials, "mio-chat-token": "x"}})
    assert bad.status_code == 401 and bad.json() == {"request_id": 2, "code": 1, "message": "failed",
                                                     "data": {"reason": "invalid code", "error": "invalid code"}}
    beat = await client.post("/api/system/heartbeat", headers=mio_headers(mio, "alice"),
                             json={"request_id": 3, "data": {"timestamp": 0}})
    assert beat.json()["request_id"] == 3 and beat.json()["data"]["delay"] > 0
    models = await client.post("/api/openai/models", headers={"Authorization": f"Bearer {mio.keys['bob']}"},
                               json={"request_id": 4, "protocol": "openai", "type": "models", "data": {}})
    assert [m for g in models.json()["data"]["models"] for m in g["models"]] == ["gpt-test", "echo"]
    anonymous = await client.post("/api/openai/models", json={"request_id": 5, "data": {}})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 1


async def test_http_completions_stream_the_same_frames(start_mio: Start, upstream: ScriptedUpstream) -> None:
    mio = await start_mio()
    upstream.push(Reply(text="Hi there"))
    response = await mio.api.client.post("/api/openai/completions", headers=mio_headers(mio, "alice"), json={
        "request_id": 9, "data": {"messages": [{"role": "user", "content": "hello"}]}})
    assert response.headers["content-type"].startswith("application/x-ndjson")
    frames = [orjson.loads(line) for line in response.text.splitlines() if line.strip()]
    assert [(f["request_id"], f["message"]) for f in frames] == [
        (9, "pending"), (9, "update"), (9, "update"), (9, "completed")]


async def test_http_onebot_message_delete_and_forward(start_mio: Start, upstream: ScriptedUpstream) -> None:
    mio = await start_mio()
    upstream.push(Reply(text="pong"))
    headers, client = mio_headers(mio, "alice"), mio.api.client
    sent = await client.post("/api/onebot/message", headers=headers, json={"request_id": 1, "protocol": "onebot",
        "data": {"id": "10000", "type": "message", "data": {"message": [{"type": "text", "data": {"text": "ping"}}]}}})
    body = sent.json()
    assert body["code"] == 0 and isinstance(body["data"]["message_id"], int)
    reply = body["data"]["reply"]["data"]
    assert reply["content"]["message"] == [{"type": "text", "data": {"text": "pong"}}]
    forward = await client.post("/api/onebot/forward_msg", headers=headers, json={"request_id": 2, "data": {
        "id": "10000", "content": [{"message_id": reply["message_id"], "message": []}]}})
    assert forward.json()["request_id"] == 2 and forward.json()["code"] == 0
    deleted = await client.post("/api/onebot/del_message", headers=headers, json={"request_id": 3, "data": {
        "id": "10000", "content": {"message_id": reply["message_id"]}}})
    assert deleted.json() == {"request_id": 3, "code": 0, "message": "success", "data": {}}
    again = await client.post("/api/onebot/del_message", headers=headers, json={"request_id": 4, "data": {
        "id": "10000", "content": {"message_id": reply["message_id"]}}})
    assert again.json()["code"] == 0  # already gone: the same answer (deleting is idempotent)


async def test_share_page_png_and_revocation(start_mio: Start, upstream: ScriptedUpstream) -> None:
    mio = await start_mio()
    headers, client = mio_headers(mio, "alice"), mio.api.client
    upstream.push(Reply(text="你好！<b>我是机器人</b>"))
    await client.post("/api/onebot/message", headers=headers, json={"request_id": 1, "data": {
        "id": "bot", "data": {"message": [{"type": "text", "data": {"text": "你好 <script>alert(1)</script>"}}]}}})
    conversation = (await client.get("/api/conversations", headers={
        "Authorization": f"Bearer {mio.keys['alice']}"})).json()["data"]["items"][0]
    # another user's stored conversation is not found, as a missing one is
    assert (await client.post("/api/share", headers=mio_headers(mio, "bob"), json={"contactor": {
        "conversation_id": conversation["id"]}})).status_code == 404
    shared = await client.post("/api/share", headers=headers, json={"contactor": {
        "name": "机器人", "conversation_id": conversation["id"]}})
    assert shared.status_code == 200, shared.text
    data = shared.json()["data"]
    assert shared.json()["code"] == 0 and data["shareUrl"] == f"/s/{data['id']}"
    token = data["id"]
    assert token.isdigit() and len(token) == 30
    for path in (f"/share/{token}", f"/s/{token}"):
        page = await client.get(path)
        assert page.status_code == 200 and "机器人" in page.text
        assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text and "&lt;b&gt;" in page.text
    png = await client.get(data["previewImg"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.format == "PNG" and image.width == 800
    assert image.text["cjk"] == ("yes" if cjk_font_path() else "no")
    assert (await client.delete(f"/api/share/{token}", headers=mio_headers(mio, "bob"))).status_code == 404
    assert (await client.delete(f"/api/share/{token}", headers=headers)).status_code == 200
    assert (await client.get(f"/share/{token}")).status_code == 404
    assert (await client.get(f"/s/{token}")).status_code == 404
    assert (await client.get(f"/share/{token}/preview.png")).status_code == 404
    assert (await client.get("/api/share", params={"id": token})).status_code == 404


NO_CJK_FONT = "no CJK font on this machine (e.g. Debian's fonts-wqy-microhei): the card falls back to Pillow's"


@pytest.mark.skipif(cjk_font_path() is None, reason=NO_CJK_FONT)
def test_cjk_text_is_drawn_with_real_glyphs() -> None:
    def card(text: str) -> bytes:
        return Image.open(io.BytesIO(render_card("标题", [CardLine("user", text)]))).convert("L").tobytes()

    def ink(pixels: bytes) -> int:
        return sum(1 for value in pixels if value < 128)

    blank, chinese = card(""), card("中文字形渲染测试")
    assert ink(chinese) > ink(blank) + 200  # the characters left dark pixels
    assert card("中中中中") != card("国国国国")  # real glyphs, not one "missing glyph" box for all
    assert Image.open(io.BytesIO(render_card("t", []))).text["cjk"] == "yes"
