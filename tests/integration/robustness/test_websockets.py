"""The sockets (item 6 of issue 19), over real WebSockets on the live server: a binary first frame
on Mio-Chat is closed politely (1003 and a reason), an idle AstrBot socket is closed, and one
Mio-Chat socket, or one user's sockets together, cannot run more answers at once than allowed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets
from websockets.exceptions import ConnectionClosed

from switchboard.app.asgi import create_app
from switchboard.config.settings import LimitSettings
from tests.integration.miochat.conftest import Mio, MioWs, Open, logged_in
from tests.integration.native.conftest import ADMIN, Api, native_settings
from tests.support.live_server import LiveServer
from tests.support.upstream import Reply, ScriptedUpstream


def completion(request_id: int) -> dict[str, Any]:
    return {"protocol": "openai", "type": "completions", "request_id": request_id,
            "data": {"messages": [{"role": "user", "content": f"question {request_id}"}]}}


@pytest_asyncio.fixture
async def mio_with_limits(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[Mio]:
    """Mio-Chat with at most 2 answers per socket and 3 per user; alice has a key."""
    limits = LimitSettings(ws_turns_per_socket=2, ws_turns_per_user=3)
    async with contextlib.AsyncExitStack() as stack:
        base_url = await stack.enter_async_context(LiveServer(create_app(
            native_settings(tmp_path, upstream, limits=limits))))
        api = Api(await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30)))
        await api.login(ADMIN.username, ADMIN.password)
        mio = Mio(base_url, api)
        await api.user("alice")
        await mio.key("alice")
        yield mio


async def test_a_binary_first_frame_is_closed_with_1003_and_a_reason(start_mio: Any, open_ws: Open) -> None:
    mio = await start_mio()
    ws = await open_ws(mio.ws_url)
    await ws.conn.send(b"\x00\x01binary")
    with pytest.raises(ConnectionClosed) as closed:  # no frame first: refused logins close, as the original
        await ws.recv(5)
    assert closed.value.rcvd is not None  # a close frame came: not a dropped connection
    assert closed.value.rcvd.code == 1003 and "binary" in closed.value.rcvd.reason


async def test_an_idle_astrbot_socket_is_closed(start_astrbot: Any) -> None:
    astr = await start_astrbot(limits=LimitSettings(ws_idle_seconds=0.3))
    url = astr.base_url.replace("http://", "ws://") + f"/api/v1/chat/ws?api_key={astr.keys['alice']}"
    async with websockets.connect(url) as socket:
        await socket.send(json.dumps({"t": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "pong"}
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000 and "idle" in closed.value.rcvd.reason


async def _replies(ws: MioWs, ids: set[int]) -> dict[int, dict[str, Any]]:
    """The first frame with a `code` for each request id (a refusal, or the turn's first frame)."""
    found: dict[int, dict[str, Any]] = {}
    while set(found) != ids:
        frame = await ws.recv(10)
        rid = frame.get("request_id")
        if rid in ids and rid not in found and ("code" in frame or frame.get("message") == "pending"):
            found[rid] = frame
    return found


async def test_one_socket_cannot_run_more_answers_than_allowed(
    mio_with_limits: Mio, open_ws: Open, upstream: ScriptedUpstream,
) -> None:
    gate = asyncio.Event()
    upstream.push(*[Reply(text="slow answer", gate=gate, gate_after=1) for _ in range(2)])
    ws = await logged_in(mio_with_limits, open_ws, "alice")
    for n in range(1, 6):
        await ws.send(completion(n))
    replies = await _replies(ws, {1, 2, 3, 4, 5})
    gate.set()
    refused = [rid for rid, frame in replies.items() if frame.get("code") == 1]
    assert sorted(refused) == [3, 4, 5]
    assert "at most 2" in replies[3]["data"]["reason"]
    done: set[int] = set()
    while done != {1, 2}:  # the two admitted answers finish; only they reached the provider
        frame = await ws.recv(10)
        if frame.get("message") in ("completed", "failed"):
            done.add(int(frame["request_id"]))
    assert sum(1 for r in upstream.requests if r.path.endswith("/chat/completions")) == 2


async def test_one_users_sockets_together_are_capped(
    mio_with_limits: Mio, open_ws: Open, upstream: ScriptedUpstream,
) -> None:
    gate = asyncio.Event()
    upstream.push(*[Reply(text="slow answer", gate=gate, gate_after=1) for _ in range(3)])
    first = await logged_in(mio_with_limits, open_ws, "alice", "tab-1")
    second = await logged_in(mio_with_limits, open_ws, "alice", "tab-2")
    for n in (1, 2):
        await first.send(completion(n))
    await _replies(first, {1, 2})
    for n in (3, 4):
        await second.send(completion(n))
    replies = await _replies(second, {3, 4})
    gate.set()
    assert replies[3].get("code") != 1 and replies[4]["code"] == 1
    assert "at most 3" in replies[4]["data"]["reason"]
