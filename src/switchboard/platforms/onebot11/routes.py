"""Reverse WebSocket: OneBot implementations dial `/onebot/v11/ws` (Universal; also with a trailing
slash) or its split roles `/onebot/v11/ws/api` and `/onebot/v11/ws/event`, saying who they are in
`X-Self-ID` and `X-Client-Role`. The access token (`Authorization: Bearer …` or `?access_token=`)
picks the platform (the first running reverse one whose token matches, or that has none); a
wrong or missing one is a 401 before the upgrade."""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import Callable, Iterable

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.responses import JSONResponse

from switchboard.platforms.onebot11.platform import OneBotPlatform

log = logging.getLogger("switchboard.platforms")

PATH = "/onebot/v11/ws"
_ROLES = {"universal": "universal", "api": "api", "event": "event"}


class ServerSocket:
    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket

    async def send_text(self, text: str) -> None:
        await self._ws.send_text(text)

    async def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):  # already closed by the other side
            await self._ws.close(1001)


def token_of(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return websocket.query_params.get("access_token") or None


def platform_for(platforms: Iterable[OneBotPlatform], token: str | None) -> OneBotPlatform | None:
    for platform in platforms:
        expected = platform.options.access_token
        if not expected or (token is not None and hmac.compare_digest(expected.encode(), token.encode())):
            return platform
    return None


def onebot_router(platforms: Callable[[], Iterable[OneBotPlatform]]) -> APIRouter:
    """`platforms()`: the reverse-mode platforms running now (the admin API adds and removes them)."""
    router = APIRouter()

    async def serve(websocket: WebSocket, path_role: str | None) -> None:
        platform = platform_for(platforms(), token_of(websocket))
        header_role = websocket.headers.get("x-client-role", "universal").strip().lower()
        role = path_role or _ROLES.get(header_role)
        self_id = websocket.headers.get("x-self-id", "").strip()
        if platform is None:
            await _deny(websocket, 401, "missing or wrong access token")
            return
        if role is None or (self_id and not self_id.isdigit()):
            await _deny(websocket, 400, "X-Client-Role must be Universal, API or Event and X-Self-ID a QQ id")
            return
        await websocket.accept()
        socket = ServerSocket(websocket)
        if self_id:
            platform.attach(self_id, socket, role)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("text") or message.get("bytes")
                if data:
                    platform.feed(data, socket, role)
        except WebSocketDisconnect:
            pass
        finally:
            platform.detach(socket)

    @router.websocket(PATH)
    @router.websocket(PATH + "/")
    async def universal(websocket: WebSocket) -> None:
        await serve(websocket, None)

    @router.websocket(PATH + "/api")
    @router.websocket(PATH + "/api/")
    async def api(websocket: WebSocket) -> None:
        await serve(websocket, "api")

    @router.websocket(PATH + "/event")
    @router.websocket(PATH + "/event/")
    async def event(websocket: WebSocket) -> None:
        await serve(websocket, "event")

    return router


async def _deny(websocket: WebSocket, status: int, message: str) -> None:
    log.info("OneBot connection refused (%d): %s", status, message)
    try:
        await websocket.send_denial_response(JSONResponse({"status": "failed", "message": message}, status))
    except RuntimeError:  # the server cannot answer a WebSocket with HTTP: the close is a 403
        await websocket.close(1008)
