"""The real Mio-Chat web clients, frame for frame as their source sends and reads them.

Sources (Pretend-to/mio-chat-frontend): the 2024 client (e.g. commit 7f1b69d, Sep 2024) logs in
by a first `system/login` frame; the clients of Dec 2024 - Mar 2025 (e.g. 14e7895, cdc0e67) log in
by the query string and wait for a pushed `{"protocol": "system", "type": "login"}` frame. Both
connect to `/api/gateway` (src/lib/websocket.js `getURL`). What the server answers follows
Pretend-to/mio-chat-backend of the same time (lib/server/webuser.js, lib/chat/openai.js)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from websockets.exceptions import ConnectionClosed

from tests.contract.native.golden import match
from tests.integration.miochat.conftest import Mio, MioWs, Open, Start
from tests.support.upstream import Reply, ScriptedUpstream, ToolCallReply


def gateway(mio: Mio, **query: str | int) -> str:
    url = mio.base_url.replace("http://", "ws://") + "/api/gateway"
    return f"{url}?{urlencode(query)}" if query else url


async def refused(ws: MioWs) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed) as caught:
        await ws.recv(5)
    close = caught.value.rcvd
    return (close.code, close.reason) if close else (None, None)


LOGIN_DATA = {"is_admin": False, "admin_qq": "", "bot_qq": "10000", "default_model": "gpt-test",
              "models": [{"owner": "up", "models": ["gpt-test"]}, {"owner": "switchboard", "models": ["echo"]}]}


async def query_login(mio: Mio, open_ws: Open, client_id: int = 12345) -> MioWs:
    # src/lib/websocket.js (14e7895) `connect`: `${this.url}?${new URLSearchParams(params)}` with
    # params {"mio-chat-id": this.id, "mio-chat-token": this.code}; no frame is sent to log in
    ws = await open_ws(gateway(mio, **{"mio-chat-id": client_id, "mio-chat-token": mio.keys["alice"]}))
    # messageHandler: `if (e.protocol == "system") { if (e.type == "login") this.emit("connect", e.data) }`
    match({"request_id": "<int>", "protocol": "system", "type": "login", "code": 0, "message": "success",
           "data": LOGIN_DATA}, await ws.recv(), {})
    return ws


async def test_the_dec_2024_client_logs_in_by_query_string_at_api_gateway(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio()
    ws = await query_login(mio, open_ws)
    # src/lib/websocket.js `fetch("/api/system/heartbeat", {timestamp})`: path segments become
    # protocol and type; `id` (the 4th segment) is undefined and so absent from the JSON
    reply = await ws.request({"request_id": "m3xk9a1b2c", "protocol": "system", "type": "heartbeat",
                              "data": {"timestamp": 1734937200000}})
    assert reply["data"].keys() == {"delay", "revTime"}


async def test_the_2024_client_logs_in_by_its_first_frame_at_api_gateway(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio()
    ws = await open_ws(gateway(mio))
    # src/lib/websocket.js (7f1b69d) onopen: `this.fetch("/api/system/login", headers)` with
    # headers {"mio-chat-id": this.id (a number from genFakeId), "mio-chat-token": this.code}
    await ws.send({"request_id": "m0q4w2x7f1k", "protocol": "system", "type": "login",
                   "data": {"mio-chat-id": 14821, "mio-chat-token": mio.keys["alice"]}})
    # any frame with the request_id resolves the login (`this.on(request_id, res => resolve(res.data))`)
    match({"request_id": "m0q4w2x7f1k", "protocol": "system", "type": "login", "code": 0, "message": "success",
           "data": LOGIN_DATA}, await ws.recv(), {})


@pytest.mark.parametrize("code", ["sb-wrong", ""])
async def test_a_wrong_or_empty_code_closes_the_socket_without_a_frame(
    start_mio: Start, open_ws: Open, code: str
) -> None:
    """A failure frame would carry the login's request_id, which the 2024 client takes for success
    (it caches the bad code and reconnects for ever); the original backend closed the socket."""
    mio = await start_mio()
    by_frame = await open_ws(gateway(mio))
    await by_frame.send({"request_id": "m0q4w2x7f1k", "protocol": "system", "type": "login",
                         "data": {"mio-chat-id": 14821, "mio-chat-token": code}})
    assert await refused(by_frame) == (1008, "invalid code")
    by_query = await open_ws(gateway(mio, **{"mio-chat-id": 14821, "mio-chat-token": code}))
    assert await refused(by_query) == (1008, "invalid code")


async def test_onebot_messages_keep_the_frames_contact_id(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    ws = await query_login(mio, open_ws)
    upstream.push(Reply(text="收到"), Reply(text="也收到"))
    # src/lib/adapter/onebot.js `send(id, message)`: `this.fetch('/api/onebot/message' + `/${id}`, message)`,
    # so websocket.js `fetch` puts the contact in the frame's top-level `id` and the segments in `data`
    for request_id, contact in (("m3xk9a1b2d", "123458888"), ("m3xk9a1b2e", "123457777")):
        await ws.send({"request_id": request_id, "protocol": "onebot", "type": "message", "id": contact,
                       "data": [{"type": "text", "data": {"text": "你好"}}]})
        # `resolve(res.data)` then `response.message_id` (webuser.js `sendResponse`)
        frames = await ws.until(lambda f: f.get("protocol") == "onebot")
        ack = next(f for f in frames if f.get("request_id") == request_id)
        match({"request_id": request_id, "code": 0, "message": "success", "data": {"message_id": "<int>"}}, ack, {})
        # client.js addMsgListener: `this.getContactor(data.id)` then `contactor.revMessage(data.content)`
        push = frames[-1]
        match({"request_id": "<int>", "protocol": "onebot", "data": {
            "id": contact, "type": "message", "message_id": "<int>",
            "content": {"message": [{"type": "text", "data": {"text": "<str>"}}], "message_id": "<int>"}}}, push, {})
    # each contact has its own conversation: the second starts afresh
    assert [m["content"] for m in upstream.requests[-1].json["messages"]] == ["你好"]


async def test_the_seed_documents_del_message_and_forward_msg_examples(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    """seed 000 (/api/onebot/del_message, /api/onebot/forward_msg), verbatim but for the ids."""
    mio = await start_mio()
    ws = await query_login(mio, open_ws)
    upstream.push(Reply(text="hello"))
    await ws.send({"request_id": 1, "protocol": "onebot", "type": "message", "id": "1234567890",
                   "data": [{"type": "text", "data": {"text": "hi"}}]})
    reply_id = (await ws.until(lambda f: f.get("protocol") == "onebot"))[-1]["data"]["message_id"]
    deleted = await ws.request({"request_id": 1234567890, "protocol": "onebot", "data": {
        "id": "1234567890", "type": "message", "content": {"message_id": str(reply_id)}}})
    assert deleted == {"request_id": 1234567890, "code": 0, "message": "success", "data": {}}
    await ws.send({"request_id": 1234567891, "protocol": "onebot", "data": {
        "id": "1234567890", "type": "forward_msg", "content": [{"message_id": 1234567890, "message": []}]}})
    frames = await ws.until(lambda f: f.get("request_id") == 1234567891)
    assert frames[-1]["code"] == 0 and frames[-2]["data"]["content"]["message"] == [
        {"type": "nodes", "data": {"messages": [[]]}}]


async def test_the_start_up_routes_answer_without_credentials(start_mio: Start) -> None:
    mio = await start_mio(admin_qq="123456789", bot_qq="987654321", title="我的 Mio", beian="京ICP备00000000号")
    client = mio.api.client
    # src/lib/client.js (14e7895) getBaseInfo: `fetch('/api/base_info')` -> info.data.beian, .title ...
    base = (await client.get("/api/base_info")).json()
    assert base["code"] == 0 and base["data"] == {"full_screen": False, "beian": "京ICP备00000000号",
                                                  "admin_qq": "123456789", "bot_qq": "987654321", "title": "我的 Mio"}
    # client.js genDefaultConctor: `fetch('/api/onebot/plugins')` -> onebotOptionsJson.data.options
    assert (await client.get("/api/onebot/plugins")).json()["data"] == {"options": {}}
    # src/lib/config.js (cdc0e67) loadOpenaiTools: `Object.values(data.data.tools)`
    assert (await client.get("/api/openai/tools")).json()["data"] == {"tools": {}}
    # src/components/AddContactor.vue (cdc0e67): `/api/openai/presets?type=recommended&start=0` -> res.data.length
    presets = (await client.get("/api/openai/presets", params={"type": "recommended", "start": 0})).json()
    assert presets == {"code": 0, "message": "success", "data": []}
    # client.js login: `this.avatar = `/api/qava?q=${this.qq}``, used as an <img> source
    avatar = await client.get("/api/qava", params={"q": "123456789"})
    assert avatar.status_code == 302 and avatar.headers["location"] == "https://q1.qlogo.cn/g?b=qq&s=0&nk=123456789"
    for bad in ("", "abc", "1" * 40, "../x"):
        refused = await client.get("/api/qava", params={"q": bad})
        assert refused.status_code == 400 and refused.json()["code"] == 1


async def test_tools_are_listed_to_a_caller_with_a_credential(start_mio: Start) -> None:
    mio = await start_mio()
    listed = await mio.api.client.get("/api/openai/tools", headers=mio.headers("alice"))
    assert listed.status_code == 200 and isinstance(listed.json()["data"]["tools"], dict)
    wrong = await mio.api.client.get("/api/openai/tools", headers={"mio-chat-id": "1", "mio-chat-token": "nope"})
    assert wrong.status_code == 200 and wrong.json()["data"] == {"tools": {}}


async def test_a_mio_chat_build_is_served_at_the_root_beside_the_api(start_mio: Start, tmp_path: Path) -> None:
    dist = tmp_path / "mio-dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Mio-Chat</title><script>inline()</script>")
    (dist / "assets" / "index-abc123.js").write_text("console.log('mio')")
    (tmp_path / "secret.txt").write_text("not yours")
    mio = await start_mio(web_dist=str(dist))
    client = mio.api.client
    page = await client.get("/")
    assert page.status_code == 200 and "<title>Mio-Chat</title>" in page.text
    assert "content-security-policy" not in page.headers  # its own inline scripts must run
    assert (await client.get("/chat/12345")).text == page.text  # a deep link opens the app
    assert (await client.get("/assets/index-abc123.js")).text == "console.log('mio')"
    for escape in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        assert "not yours" not in (await client.get(escape)).text
    assert (await client.get("/api/base_info")).json()["code"] == 0  # the API beside it
    assert (await client.get("/api/nothing")).status_code == 404


async def test_a_contacts_completions_continue_one_conversation(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    ws = await query_login(mio, open_ws)
    upstream.push(Reply(text="你好呀"), Reply(text="我是 MioBot"), Reply(text="另一个"))
    # src/lib/websocket.js (14e7895) streamCompletions: {request_id, protocol: "openai", type: "completions",
    # data: {...settings, messages}} with the contact's whole history (src/lib/contactor.js webSend)
    system = {"role": "system", "content": "你是 MioBot"}
    first = [system, {"role": "user", "content": "你好"}]
    await ws.stream({"request_id": "c1", "protocol": "openai", "type": "completions",
                     "data": {"model": "gpt-test", "messages": first}})
    again = [*first, {"role": "assistant", "content": "你好呀"}, {"role": "user", "content": "你是谁"}]
    await ws.stream({"request_id": "c2", "protocol": "openai", "type": "completions",
                     "data": {"model": "gpt-test", "messages": again}})
    assert upstream.last.json["messages"] == again  # the model sees the whole history once
    # another contact (another beginning) is another conversation
    await ws.stream({"request_id": "c3", "protocol": "openai", "type": "completions",
                     "data": {"model": "gpt-test", "messages": [{"role": "user", "content": "别的"}]}})
    auth = {"Authorization": f"Bearer {mio.keys['alice']}"}
    items = (await mio.api.client.get("/api/conversations", headers=auth)).json()["data"]["items"]
    assert len(items) == 2
    thread = next(c["id"] for c in items if c["title"] == "你好")
    stored = (await mio.api.client.get(f"/api/messages/{thread}", headers=auth)).json()["data"]
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "你好"), ("assistant", "你好呀"), ("user", "你是谁"), ("assistant", "我是 MioBot")]


async def test_reasoning_deltas_are_forwarded(start_mio: Start, open_ws: Open, upstream: ScriptedUpstream) -> None:
    mio = await start_mio()
    ws = await query_login(mio, open_ws)
    upstream.push(Reply(text="42", reasoning="think"))
    frames = await ws.stream({"request_id": "r1", "protocol": "openai", "type": "completions",
                              "data": {"messages": [{"role": "user", "content": "6*7?"}]}})
    # the client of Mar 2025 (cdc0e67 src/lib/adapter/openai.js) reads `chunk.data.reasoning_content`
    reasoning = [f["data"]["reasoning_content"] for f in frames if "reasoning_content" in f.get("data", {})]
    assert "".join(reasoning) == "think"
    assert all(f["data"]["chunk"] == "" and f["data"]["tool_call"] is None for f in frames
               if "reasoning_content" in f.get("data", {}))


async def test_a_follow_up_after_a_tool_call_continues_the_conversation(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    """src/lib/contactor.js (ff83639, Jan 2025) webSend turns a tool_call element back into an assistant
    message with `tool_calls` (`arguments: JSON.stringify(params)`, params being the streamed text)
    and a `tool` message (`content: JSON.stringify(result)`, `tool_call_id`); text elements stay
    assistant messages of their own."""
    mio = await start_mio()
    ws = await query_login(mio, open_ws)
    upstream.push(Reply(text="Let me compute. ", tool_calls=[
        ToolCallReply("calculate", '{"expression": "6*7"}', id="call_a")]), Reply(text="It is 42."), Reply(text="84"))
    question = {"role": "user", "content": "what is 6*7?"}
    frames = await ws.stream({"request_id": "t1", "protocol": "openai", "type": "completions",
                              "data": {"model": "gpt-test", "messages": [question]}})
    assert frames[-1]["message"] == "completed"
    finished = next(f["data"]["tool_call"] for f in frames
                    if (f["data"].get("tool_call") or {}).get("action") == "finished")
    call = {"id": finished["id"], "type": "function",
            "function": {"name": finished["name"], "arguments": json.dumps(finished["params"])}}
    history = [question, {"role": "assistant", "content": "Let me compute. "},
               {"role": "assistant", "content": None, "tool_calls": [call]},
               {"role": "tool", "content": json.dumps(finished["result"]), "tool_call_id": finished["id"]},
               {"role": "assistant", "content": "It is 42."}, {"role": "user", "content": "and twice that?"}]
    again = await ws.stream({"request_id": "t2", "protocol": "openai", "type": "completions",
                             "data": {"model": "gpt-test", "messages": history}})
    assert again[-1]["message"] == "completed" and "".join(f["data"].get("chunk", "") for f in again) == "84"
    auth = {"Authorization": f"Bearer {mio.keys['alice']}"}
    items = (await mio.api.client.get("/api/conversations", headers=auth)).json()["data"]["items"]
    assert len(items) == 1
    stored = (await mio.api.client.get(f"/api/messages/{items[0]['id']}", headers=auth)).json()["data"]
    assert [(m["role"], m["content"]) for m in stored][-2:] == [("user", "and twice that?"), ("assistant", "84")]
