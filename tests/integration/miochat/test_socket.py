"""The Mio-Chat socket: logins, bad frames, limits, idle close, concurrency and isolation."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from tests.integration.miochat.conftest import MioWs, Open, Start, logged_in
from tests.support.upstream import Reply, ScriptedUpstream


def completion(request_id: int, text: str) -> dict[str, object]:
    return {"protocol": "openai", "type": "completions", "request_id": request_id,
            "data": {"messages": [{"role": "user", "content": text}]}}


async def closed(ws: MioWs) -> int | None:
    with pytest.raises(ConnectionClosed) as caught:
        for _ in range(5):
            await ws.recv(5)
    return caught.value.rcvd.code if caught.value.rcvd else None


async def closed_without_a_frame(ws: MioWs) -> tuple[int | None, str | None]:
    """A refused login: the socket closes before any frame (the original backend's behaviour)."""
    with pytest.raises(ConnectionClosed) as caught:
        await ws.recv(5)
    close = caught.value.rcvd
    return (close.code, close.reason) if close else (None, None)


async def test_login_by_first_frame_answers_with_its_request_id(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio()
    ws = await open_ws(mio.ws_url)
    await ws.send({"protocol": "system", "type": "login", "request_id": 99,
                   "data": {"mio-chat-id": "web-1", "mio-chat-token": mio.keys["alice"]}})
    reply = await ws.recv()
    assert reply["request_id"] == 99 and reply["code"] == 0 and reply["data"]["is_admin"] is False
    assert reply["data"]["default_model"] == "gpt-test"
    assert (await ws.request({"protocol": "system", "type": "heartbeat", "request_id": 1, "data": {}}))["code"] == 0


@pytest.mark.parametrize("token", ["sb-wrong", ""])
async def test_a_failed_login_closes_without_a_frame(start_mio: Start, open_ws: Open, token: str) -> None:
    mio = await start_mio()
    ws = await open_ws(mio.ws_url)
    await ws.send({"protocol": "system", "type": "login", "request_id": 5,
                   "data": {"mio-chat-id": "web-1", "mio-chat-token": token}})
    assert await closed_without_a_frame(ws) == (1008, "invalid code")


async def test_no_login_within_the_timeout_closes_the_socket(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio(login_timeout_seconds=0.3)
    ws = await open_ws(mio.ws_url)
    assert await closed_without_a_frame(ws) == (1008, "login timed out")


async def test_shared_codes_log_in_as_the_configured_users(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio(user_code="letmein", admin_code="boss", admin_qq="123456789", bot_qq="987654321")
    user = await open_ws(mio.ws_url, {"mio-chat-id": "guest-1", "mio-chat-token": "letmein"})
    assert (await user.recv())["data"] | {"models": None, "default_model": None} == {
        "is_admin": False, "admin_qq": "123456789", "bot_qq": "987654321", "models": None, "default_model": None}
    admin = await open_ws(mio.ws_url, {"mio-chat-id": "admin-1", "mio-chat-token": "boss"})
    assert (await admin.recv())["data"]["is_admin"] is True
    wrong = await open_ws(mio.ws_url, {"mio-chat-id": "x", "mio-chat-token": "guess"})
    assert await closed_without_a_frame(wrong) == (1008, "invalid code")


async def test_bad_frames_get_failure_frames_and_the_socket_stays_open(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio(max_frame_bytes=2000)
    ws = await logged_in(mio, open_ws, "alice")
    await ws.send("{not json")
    assert (await ws.recv()) == {"request_id": None, "code": 1, "message": "failed",
                                 "data": {"reason": "frame is not JSON", "error": "frame is not JSON"}}
    await ws.send({"request_id": 3, "data": {}})
    missing = await ws.recv()
    assert missing["request_id"] == 3 and "protocol" in missing["data"]["reason"]
    await ws.send({"protocol": "openai", "type": "completions", "request_id": 4, "data": {"messages": "x" * 3000}})
    assert (await ws.recv())["data"]["reason"] == "frame larger than 2000 bytes"
    await ws.send({"protocol": "onebot", "request_id": 6, "data": {"id": "1", "type": "poke"}})
    assert (await ws.recv())["data"]["reason"] == "unknown onebot type: poke"
    assert (await ws.request({"protocol": "system", "type": "heartbeat", "request_id": 7, "data": {}}))["code"] == 0


async def test_a_silent_socket_is_closed(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio(heartbeat_timeout_seconds=0.5)
    ws = await logged_in(mio, open_ws, "alice")
    assert await closed(ws) == 4000


async def test_several_requests_run_at_once_on_one_socket(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    ws = await logged_in(mio, open_ws, "alice")
    upstream.push(Reply(text="slow answer here", chunk_delay=0.3), Reply(text="fast"))
    await ws.send(completion(1, "slow"))
    frames = await ws.until(lambda f: f["message"] == "update")  # 1 holds the slow reply
    await ws.send(completion(2, "fast"))
    frames += await ws.until(lambda f: f.get("request_id") == 1 and f["message"] == "completed")
    ends = [(f["request_id"], f["message"]) for f in frames if f["message"] in ("completed", "failed")]
    assert ends == [(2, "completed"), (1, "completed")]
    assert "".join(f["data"]["chunk"] for f in frames if f["request_id"] == 1 and f["message"] == "update") == (
        "slow answer here")
    await ws.send(completion(1, "again"))  # a finished request_id may be used again
    assert (await ws.until(lambda f: f["message"] in ("completed", "failed")))[-1]["message"] == "completed"


async def test_interrupting_a_request_that_is_not_running_is_refused(start_mio: Start, open_ws: Open) -> None:
    mio = await start_mio()
    ws = await logged_in(mio, open_ws, "alice")
    reply = await ws.request({"protocol": "openai", "type": "stop", "request_id": 8, "data": {"request_id": 77}})
    assert reply["code"] == 1 and reply["data"]["reason"] == "no running request 77"


async def test_two_users_never_see_each_others_frames(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    alice, bob = await logged_in(mio, open_ws, "alice"), await logged_in(mio, open_ws, "bob")
    upstream.push(Reply(text="for alice"), Reply(text="for alice too"), Reply(text="for bob"))
    await alice.send(completion(1, "a"))
    await alice.send({"protocol": "onebot", "request_id": 2, "data": {
        "id": "bot", "type": "message", "data": {"message": [{"type": "text", "data": {"text": "hi"}}]}}})
    await alice.until(lambda f: f.get("protocol") == "onebot")
    await bob.send(completion(1, "b"))
    bob_frames = await bob.until(lambda f: f.get("message") == "completed")
    await asyncio.sleep(0.3)
    assert all(f.get("protocol") != "onebot" for f in bob_frames)
    assert "".join(f["data"].get("chunk", "") for f in bob_frames if f.get("message") == "update") == "for bob"
    assert all("for bob" not in str(f) for f in alice.seen)
