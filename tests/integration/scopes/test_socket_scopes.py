"""The WebSockets check the scope their routes declare (chat) like every HTTP route: AstrBot's
chat socket and Mio-Chat's socket (headers, query string or the login frame) refuse a key without
`chat` with their own refusal, then close with 1008; a chat key gets in."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.integration.scopes.conftest import SCOPES, Server

pytestmark = pytest.mark.asyncio(loop_scope="module")
POLICY_VIOLATION = 1008


async def receive(socket: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(socket.recv(), 10)))


async def close_code(socket: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


async def a_key(server: Server, scope: str) -> str:
    return str((await server.key("alice", name=f"ws-{scope}", scopes=[scope]))["key"])


@pytest.mark.parametrize("scope", [s for s in SCOPES if s not in ("chat", "admin")])
async def test_astrbot_socket_refuses_a_key_without_chat(scoped: Server, scope: str) -> None:
    key = await a_key(scoped, scope)
    async with connect(f"{scoped.ws_base}/api/v1/chat/ws?key={key}") as socket:
        refused = await receive(socket)
        code = await close_code(socket)
    assert refused == {"type": "error", "code": "UNAUTHORIZED", "data": "Insufficient API key scope"}
    assert code == POLICY_VIOLATION


async def test_astrbot_socket_lets_a_chat_key_in(scoped: Server) -> None:
    key = await a_key(scoped, "chat")
    async with connect(f"{scoped.ws_base}/api/v1/chat/ws", additional_headers={"X-API-Key": key}) as socket:
        await socket.send(json.dumps({"t": "ping"}))
        assert await receive(socket) == {"type": "pong"}


@pytest.mark.parametrize("scope", [s for s in SCOPES if s not in ("chat", "admin")])
@pytest.mark.parametrize("login", ["headers", "frame"])
async def test_miochat_socket_refuses_a_key_without_chat(scoped: Server, scope: str, login: str) -> None:
    key = await a_key(scoped, scope)
    headers = {"mio-chat-id": f"c-{scope}", "mio-chat-token": key} if login == "headers" else {}
    async with connect(f"{scoped.ws_base}/ws", additional_headers=headers) as socket:
        if login == "frame":
            await socket.send(json.dumps({"request_id": 7, "protocol": "system", "type": "login",
                                          "data": {"mio-chat-id": f"c-{scope}", "mio-chat-token": key}}))
        with pytest.raises(ConnectionClosed) as closed:  # as the original: no frame, the reason in the close
            await asyncio.wait_for(socket.recv(), 10)
    received = closed.value.rcvd
    assert received is not None
    assert (received.code, received.reason) == (POLICY_VIOLATION, "this API key lacks the 'chat' scope")


async def test_miochat_socket_lets_a_chat_key_in(scoped: Server) -> None:
    key = await a_key(scoped, "chat")
    async with connect(f"{scoped.ws_base}/ws", additional_headers={"mio-chat-id": "c-chat",
                                                                   "mio-chat-token": key}) as socket:
        welcome = await receive(socket)
    assert welcome["code"] == 0 and welcome["data"]["is_admin"] is False
