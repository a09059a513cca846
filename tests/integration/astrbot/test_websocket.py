"""GET /api/v1/chat/ws with a real WebSocket client against a live server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.contract.astrbot.harness import Astr, Start
from tests.support.upstream import Reply, ScriptedUpstream, ToolCallReply


def ws_url(astr: Astr, query: str) -> str:
    return astr.base_url.replace("http://", "ws://") + "/api/v1/chat/ws?" + query


async def receive(socket: Any) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(socket.recv(), 10)))


async def until_end(socket: Any) -> list[dict[str, Any]]:
    frames = [await receive(socket)]
    while frames[-1]["type"] not in ("end", "error"):
        frames.append(await receive(socket))
    return frames


async def test_send_streams_the_same_events_as_sse(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(
        Reply(reasoning="think", tool_calls=[ToolCallReply("calculate", '{"expression": "2+2"}', id="c1")],
              usage=(5, 1)),
        Reply(text="It is 4", usage=(9, 3)),
    )
    async with websockets.connect(ws_url(astr, f"api_key={astr.keys['alice']}")) as socket:
        await socket.send(json.dumps({"t": "ping"}))
        assert await receive(socket) == {"type": "pong"}
        await socket.send(json.dumps({"t": "send", "message": "2+2?", "username": "bob", "session_id": "ws-1",
                                      "message_id": "m-42"}))
        frames = await until_end(socket)

    assert frames[0] == {"type": "session_id", "data": None, "session_id": "ws-1", "message_id": "m-42"}
    kinds = [(f["type"], f.get("chain_type")) for f in frames]
    assert kinds.index(("plain", "reasoning")) < kinds.index(("plain", "tool_call"))
    assert kinds.index(("plain", "tool_call")) < kinds.index(("plain", "tool_call_result")) < kinds.index(
        ("plain", None))
    assert [k for k, _ in kinds[-4:]] == ["agent_stats", "complete", "message_saved", "end"]
    saved = next(f for f in frames if f["type"] == "message_saved")
    assert saved["session_id"] == "ws-1" and isinstance(saved["data"]["id"], int)
    assert all(f["message_id"] == "m-42" for f in frames if "message_id" in f)
    stats = next(f for f in frames if f["type"] == "agent_stats")["data"]
    assert stats["token_usage"] == {"input_other": 14, "input_cached": 0, "output": 4}
    assert [r.json["stream"] for r in upstream.requests] == [True, True]


async def test_with_streaming_off_the_model_is_asked_for_whole_answers_and_the_tools_still_run(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    astr = await start_astrbot()
    upstream.push(
        Reply(tool_calls=[ToolCallReply("calculate", '{"expression": "2+2"}', id="c1")], usage=(5, 1)),
        Reply(text="It is 4", usage=(9, 3)),
    )
    async with websockets.connect(ws_url(astr, f"api_key={astr.keys['alice']}")) as socket:
        await socket.send(json.dumps({"t": "send", "message": "2+2?", "username": "bob", "session_id": "ws-2",
                                      "enable_streaming": False}))
        frames = await until_end(socket)

    assert [r.json["stream"] for r in upstream.requests] == [False, False]
    assert upstream.requests[1].json["messages"][-1]["role"] == "tool"
    result = next(f for f in frames if f.get("chain_type") == "tool_call_result")
    assert "4" in result["data"]
    [text] = [f for f in frames if f["type"] == "plain" and f.get("chain_type") is None]
    assert (text["data"], text["streaming"]) == ("It is 4", False)
    stats = next(f for f in frames if f["type"] == "agent_stats")["data"]
    assert stats["token_usage"] == {"input_other": 14, "input_cached": 0, "output": 4}


@pytest.mark.parametrize("query", ["", "api_key=sb-wrong"])
async def test_bad_credentials_close_with_1008(start_astrbot: Start, query: str) -> None:
    astr = await start_astrbot()
    async with websockets.connect(ws_url(astr, query)) as socket:
        error = await receive(socket)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert error["type"] == "error" and error["code"] == "UNAUTHORIZED"
    assert error["data"] == ("Missing API key" if not query else "Invalid API key")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_a_key_in_a_header_and_without_the_chat_scope(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    async with websockets.connect(ws_url(astr, ""), additional_headers={"X-API-Key": astr.keys["alice"]}) as socket:
        await socket.send(json.dumps({"t": "ping"}))
        assert await receive(socket) == {"type": "pong"}
    file_only = await astr.key("alice", ["file"])
    async with websockets.connect(ws_url(astr, f"key={file_only}")) as socket:
        assert (await receive(socket))["data"] == "Insufficient API key scope"


async def test_error_codes(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(text="hi"))
    cases = [
        ("[1, 2]", "INVALID_MESSAGE"),
        ('{"t": "dance"}', "INVALID_MESSAGE"),
        ('{"t": "send", "username": "bob"}', "INVALID_MESSAGE"),
        ('{"t": "send", "message": "hi"}', "BAD_USER"),
        ('{"t": "send", "message": "hi", "username": "bob", "config_id": "nope"}', "CONFIG_ERROR"),
        ('{"t": "send", "message": "hi", "username": "eve", "session_id": "taken"}', "SESSION_ERROR"),
        ('{"t": "send", "message": "hi", "username": "bob", "selected_model": "no-such-model"}', "PROCESSING_ERROR"),
    ]
    async with websockets.connect(ws_url(astr, f"api_key={astr.keys['alice']}")) as socket:
        await socket.send(json.dumps({"message": "hi", "username": "bob", "session_id": "taken"}))  # t defaults to send
        assert (await until_end(socket))[-1]["type"] == "end"
        for frame, code in cases:
            await socket.send(frame)
            reply = await receive(socket)
            assert (reply["type"], reply["code"]) == ("error", code), (frame, reply)


async def test_proactive_messages_reach_the_sessions_socket(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(text="hello"))
    async with websockets.connect(ws_url(astr, f"api_key={astr.keys['alice']}")) as socket, \
            websockets.connect(ws_url(astr, f"api_key={astr.keys['alice']}&session_id=elsewhere")) as bystander:
        await socket.send(json.dumps({"t": "send", "message": "hi", "username": "bob", "session_id": "probe"}))
        await until_end(socket)
        sent = await astr.client.post("/api/v1/im/message", headers=astr.auth(), json={
            "umo": "webchat:FriendMessage:probe", "message": [{"type": "plain", "text": "ping from api key"}]})
        assert sent.json()["status"] == "ok"
        plain, complete = await receive(socket), await receive(socket)
        await bystander.send(json.dumps({"t": "ping"}))
        assert await receive(bystander) == {"type": "pong"}  # nothing for a socket of another session

    assert (plain["type"], plain["data"], plain["streaming"], plain["session_id"]) == (
        "plain", "ping from api key", True, "probe")
    assert (complete["type"], complete["data"]) == ("complete", "ping from api key")
