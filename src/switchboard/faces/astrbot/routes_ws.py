"""GET /api/v1/chat/ws: AstrBot's chat over a WebSocket.

Client frames: `{"t": "send", "message", "username", "session_id"?, ...}` or `{"t": "ping"}` ->
`{"type": "pong"}`. The server answers a send with the same event objects as the SSE stream, and
forwards proactive messages (`im/message` to `webchat:...:<session>`) for the sessions this socket
chats in (or names with `?session_id=`). Errors: `{"type": "error", "code", "data"}`; bad
credentials close the socket with 1008; a socket without a frame for `limits.ws_idle_seconds` is
closed with 4000."""

import asyncio
import contextlib
import json
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from switchboard.core.domain.errors import DomainError
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.core.services.conversations.proactive import push_channel
from switchboard.faces.astrbot.auth import authenticate, extract_key
from switchboard.faces.astrbot.schemas import ChatFrame
from switchboard.faces.astrbot.sessions import PLATFORM, ChatSessions
from switchboard.faces.astrbot.stream import pushed_events

IDLE_CLOSE = 4000  # as Mio-Chat's socket: closed for silence


def error_code(message: str) -> str:
    """AstrBot's code for a refused send, from its message."""
    if message in ("Missing key: username", "username is empty"):
        return "BAD_USER"
    if message.startswith("config_"):
        return "CONFIG_ERROR"
    if "session" in message:
        return "SESSION_ERROR"
    return "INVALID_MESSAGE"


class ChatSocket:
    def __init__(self, websocket: WebSocket, principal: Principal, sessions: ChatSessions, idle_seconds: float
                 ) -> None:
        self.websocket = websocket
        self.idle_seconds = idle_seconds
        self.principal = principal
        self.sessions = sessions
        self.joined: set[str] = {websocket.query_params["session_id"]} if websocket.query_params.get(
            "session_id") else set()
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            await self.websocket.send_text(json.dumps(frame, ensure_ascii=False))

    async def error(self, message: str, code: str) -> None:
        await self.send({"type": "error", "code": code, "data": message})

    async def serve(self) -> None:
        while True:
            try:
                frame = json.loads(await asyncio.wait_for(self.websocket.receive_text(), self.idle_seconds))
            except TimeoutError:  # a forgotten socket must not hold a connection and a push subscription forever
                await self.websocket.close(IDLE_CLOSE, f"idle for {self.idle_seconds:g} s")
                return
            except (ValueError, KeyError):  # not JSON, or a binary frame
                frame = None
            if not isinstance(frame, dict):
                await self.error("message must be an object", "INVALID_MESSAGE")
                continue
            kind = frame.get("t", "send")
            if kind == "ping":
                await self.send({"type": "pong"})
            elif kind != "send":
                await self.error(f"Unsupported message type: {str(kind)[:50]}", "INVALID_MESSAGE")
            elif frame.get("message") is None:
                await self.error("Missing key: message", "INVALID_MESSAGE")
            else:
                await self.chat(frame)

    async def chat(self, raw: dict[str, Any]) -> None:
        try:
            body = ChatFrame.model_validate(raw)
            plan = await self.sessions.plan(self.principal, body)
        except ValidationError as exc:
            await self.error(f"invalid message: {exc.errors()[0].get('msg', 'invalid')}", "INVALID_MESSAGE")
            return
        except DomainError as exc:
            await self.error(exc.message, error_code(exc.message))
            return
        self.joined.add(plan.session_id)
        message_id = body.message_id or str(uuid.uuid4())
        try:
            events = await self.sessions.start(self.principal, plan, message_id)
        except DomainError as exc:
            await self.error(exc.message, "PROCESSING_ERROR")
            return
        try:
            async for event in events:
                if event["type"] == "session_id":
                    event = {**event, "message_id": message_id}
                elif event["type"] == "message_saved":
                    event = {**event, "session_id": plan.session_id}
                await self.send(event)
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    async def forward_pushes(self, services: Services) -> None:
        async with services.push.subscribe(push_channel(PLATFORM, self.principal.user_id)) as pushes:
            async for payload in pushes:
                if str(payload.get("session_id")) in self.joined:
                    for frame in pushed_events(payload):
                        await self.send(frame)


def ws_router(services: Services, sessions: ChatSessions, idle_seconds: float) -> APIRouter:
    router = APIRouter()

    @router.websocket("/api/v1/chat/ws")
    async def chat_ws(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            principal = await authenticate(
                services.accounts, extract_key(websocket.headers, websocket.query_params), Scope.CHAT)
        except DomainError as exc:
            await websocket.send_text(json.dumps({"type": "error", "code": "UNAUTHORIZED", "data": exc.message}))
            await websocket.close(code=1008, reason=exc.message)
            return
        socket = ChatSocket(websocket, principal, sessions, idle_seconds)
        forwarder = asyncio.create_task(socket.forward_pushes(services))
        try:
            await socket.serve()
        except WebSocketDisconnect:
            pass
        finally:
            forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await forwarder

    return router
