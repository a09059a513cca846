"""A OneBot 11 implementation for tests (what NapCat or Lagrange.OneBot are to a real bot): it
dials Switchboard's reverse WebSocket with the real headers (`OneBotPeer.connect`), or is dialled
on its own forward-WebSocket server (`ForwardOneBotServer`); it sends real OneBot 11 event JSON,
answers every action with its `echo` and records what the bot sent.

    peer = OneBotPeer(self_id=10000)
    await peer.connect(ws_url, token="secret")
    await peer.private(20001, "hello")                    # a private message event
    [sent] = await peer.wait_actions(1)                   # {"action": "send_private_msg", "params": ...}
    peer.refuse["send_group_msg"] = "bot is muted"        # answer that action with a failure
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import websockets
from aiohttp import WSMsgType, web

from tests.support.fakes import eventually

Send = Callable[[str], Awaitable[None]]


class OneBotPeer:
    def __init__(self, self_id: int = 10000) -> None:
        self.self_id = self_id
        self.actions: list[dict[str, Any]] = []  # every action frame the bot sent, in order
        self.refuse: dict[str, str] = {}  # action -> the failure message it is answered with
        self.silent: set[str] = set()  # actions never answered (the bot's timeout)
        self.message_ids: list[int] = []  # the ids given to the bot's sent messages, in order
        self._ids = itertools.count(1000)
        self._send: Send | None = None
        self._reader: asyncio.Task[None] | None = None
        self._socket: Any = None

    # -- transport ----------------------------------------------------------------------------
    async def connect(self, url: str, *, token: str | None = None, role: str = "Universal",
                      token_in_query: bool = False, headers: dict[str, str] | None = None) -> None:
        """Dial the bot's reverse WebSocket as an implementation does; raises websockets' InvalidStatus
        when the handshake is refused (a 401 ...)."""
        sent_headers = {"X-Self-ID": str(self.self_id), "X-Client-Role": role, "User-Agent": "OneBot/11",
                        **(headers or {})}
        if token and token_in_query:
            url += f"?access_token={token}"
        elif token:
            sent_headers["Authorization"] = f"Bearer {token}"
        self._socket = await websockets.connect(url, additional_headers=sent_headers, max_size=None)
        self._send = self._socket.send
        self._reader = asyncio.create_task(self._read(self._socket))

    async def _read(self, socket: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in socket:
                await self.on_frame(frame)

    async def wait_closed(self, within: float = 10.0) -> None:
        """Until the bot's side closed the connection (a platform disabled, edited or deleted)."""
        assert self._reader is not None, "not connected"
        await asyncio.wait_for(asyncio.shield(self._reader), within)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._send = None

    async def on_frame(self, frame: str | bytes) -> None:
        action = orjson.loads(frame)
        self.actions.append(action)
        name, echo = action.get("action"), action.get("echo")
        if name in self.silent:
            return
        if name in self.refuse:
            await self.send({"status": "failed", "retcode": 100, "data": None, "message": self.refuse[name],
                             "wording": self.refuse[name], "echo": echo})
            return
        data: dict[str, Any] = {"message_id": next(self._ids)}
        self.message_ids.append(data["message_id"])
        if name == "get_login_info":
            data = {"user_id": self.self_id, "nickname": "bot"}
        await self.send({"status": "ok", "retcode": 0, "data": data, "echo": echo})

    async def send(self, frame: dict[str, Any] | str) -> None:
        assert self._send is not None, "not connected"
        await self._send(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    # -- events ------------------------------------------------------------------------------
    def _base(self, post_type: str) -> dict[str, Any]:
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": post_type}

    async def private(self, user_id: int, message: list[dict[str, Any]] | str, *, nickname: str = "alice") -> int:
        message_id = next(self._ids)
        await self.send({**self._base("message"), "message_type": "private", "sub_type": "friend",
                         "message_id": message_id, "user_id": user_id, "message": message,
                         "raw_message": message if isinstance(message, str) else "", "font": 0,
                         "sender": {"user_id": user_id, "nickname": nickname}})
        return message_id

    async def group(self, group_id: int, user_id: int, message: list[dict[str, Any]] | str, *,
                    nickname: str = "bob") -> int:
        message_id = next(self._ids)
        await self.send({**self._base("message"), "message_type": "group", "sub_type": "normal",
                         "message_id": message_id, "group_id": group_id, "user_id": user_id, "message": message,
                         "raw_message": message if isinstance(message, str) else "", "font": 0,
                         "sender": {"user_id": user_id, "nickname": nickname, "card": "", "role": "member"}})
        return message_id

    async def lifecycle(self, sub_type: str = "connect") -> None:
        await self.send({**self._base("meta_event"), "meta_event_type": "lifecycle", "sub_type": sub_type})

    async def heartbeat(self, online: bool = True) -> None:
        await self.send({**self._base("meta_event"), "meta_event_type": "heartbeat", "interval": 5000,
                         "status": {"online": online, "good": online}})

    # -- what the bot did --------------------------------------------------------------------
    def sent(self, action: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.actions if action is None or a.get("action") == action]

    async def wait_actions(self, count: int, action: str | None = None, within: float = 20.0
                           ) -> list[dict[str, Any]]:
        await eventually(lambda: len(self.sent(action)) >= count, within=within)
        return self.sent(action)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": value}}


def at(qq: int | str) -> dict[str, Any]:
    return {"type": "at", "data": {"qq": str(qq)}}


def reply(message_id: int | str) -> dict[str, Any]:
    return {"type": "reply", "data": {"id": str(message_id)}}


def image(file: str, url: str | None = None) -> dict[str, Any]:
    return {"type": "image", "data": {"file": file, **({"url": url} if url else {})}}


def plain_text(message: list[dict[str, Any]]) -> str:
    """The text segments of a message the bot sent."""
    return "".join(s["data"]["text"] for s in message if s["type"] == "text")


class ForwardOneBotServer:
    """The implementation's forward WebSocket server on 127.0.0.1: Switchboard dials `url`. Each
    accepted connection is served by `peer`; `stop()` drops the connection and the listener."""

    def __init__(self, peer: OneBotPeer, token: str | None = None) -> None:
        self.peer = peer
        self.token = token
        self.connections = 0
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/", self._accept)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"message": "unauthorized"}, status=401)
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections += 1
        self.peer._send = ws.send_str
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                await self.peer.on_frame(frame.data)
        self.peer._send = None
        return ws

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        self._sockets.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@contextlib.asynccontextmanager
async def forward_server(peer: OneBotPeer, token: str | None = None) -> AsyncIterator[ForwardOneBotServer]:
    server = ForwardOneBotServer(peer, token)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
