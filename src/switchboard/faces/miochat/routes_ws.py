"""The Mio-Chat WebSocket: login, then the whole protocol.

Every raw-WebSocket Mio-Chat web client connects to `/api/gateway` (frontend src/lib/websocket.js
`getURL`); `/`, `/ws` and `/api/miochat/ws` are served too. Login by the upgrade's `mio-chat-id` /
`mio-chat-token` headers or the same names in the query string (the Dec 2024 - Mar 2025 clients),
or by a first `system/login` frame within the login timeout (the 2024 client). Success is one
`{"request_id", "protocol": "system", "type": "login", "code": 0, "message": "success", "data":
{is_admin, admin_qq, bot_qq, default_model, models by owner}}` frame: the login frame's
request_id, or a fresh one when the client logged in by the upgrade (the original backend's
`WebUser.login` pushed it so; the Dec 2024 client waits for exactly that frame). A failed login
closes the socket without a frame, as the original did (the 2024 client takes any frame with its
request_id for success): close code 1008 (1003 when the first frame is binary), the reason in the
close frame."""

import asyncio
import contextlib

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from switchboard.core.domain.errors import DomainError, Unauthenticated
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.client import client_address
from switchboard.faces._shared.turn_slots import TurnSlots
from switchboard.faces.miochat.auth import Authenticator, MioClient, credentials
from switchboard.faces.miochat.dispatch import Dispatcher
from switchboard.faces.miochat.envelope import success
from switchboard.faces.miochat.options import MioOptions
from switchboard.faces.miochat.schemas import LoginData, RequestFrame, RequestId
from switchboard.faces.miochat.socket import MioSocket

WS_PATHS = ("/api/gateway", "/", "/ws", "/api/miochat/ws")
POLICY_VIOLATION = 1008
UNSUPPORTED_DATA = 1003


class ClientLeft(Exception):
    """The client closed the socket before it logged in: nobody is left to answer."""


class UnsupportedFrame(Unauthenticated):
    """A frame of a kind the protocol does not carry (binary): closed with 1003, not 1008."""


async def _login_frame(websocket: WebSocket, within: float) -> tuple[RequestId, LoginData]:
    """The first frame, which must be system/login and come within `within` seconds."""
    try:
        message = await asyncio.wait_for(websocket.receive(), within)
    except TimeoutError as exc:
        raise Unauthenticated("login timed out") from exc
    if message["type"] == "websocket.disconnect":
        raise ClientLeft
    raw = message.get("text")
    if raw is None:
        raise UnsupportedFrame("the first frame must be a JSON text frame (system/login), not binary")
    try:
        parsed = orjson.loads(raw)
        frame = RequestFrame.model_validate(parsed)
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise Unauthenticated("the first frame must be a system/login frame") from exc
    if (frame.protocol, frame.type) != ("system", "login"):
        raise Unauthenticated("the first frame must be a system/login frame")
    try:
        return frame.request_id, LoginData.model_validate(frame.data if isinstance(frame.data, dict) else {})
    except ValidationError as exc:
        raise Unauthenticated("invalid login data") from exc


class LoginFailed(Exception):
    def __init__(self, request_id: RequestId, reason: str, code: int = POLICY_VIOLATION) -> None:
        super().__init__(reason)
        self.request_id = request_id
        self.reason = reason
        self.code = code


async def _log_in(websocket: WebSocket, auth: Authenticator, options: MioOptions) -> tuple[RequestId, MioClient]:
    header_id, token = credentials(websocket.headers, websocket.query_params)
    client_id: str | int | None = header_id
    request_id: RequestId = None
    try:
        if header_id is None:
            request_id, data = await _login_frame(websocket, options.login_timeout)
            client_id, token = data.client_id, data.token
        return request_id, await auth.login(client_id, token, address=client_address(websocket))
    except UnsupportedFrame as exc:
        raise LoginFailed(request_id, exc.message, UNSUPPORTED_DATA) from exc
    except DomainError as exc:
        raise LoginFailed(request_id, exc.message) from exc


def _close_reason(reason: str) -> str:
    """A close frame's reason holds at most 123 bytes of UTF-8."""
    encoded = reason.encode()[:120]
    return encoded.decode("utf-8", "ignore")


def ws_router(services: Services, auth: Authenticator, dispatcher: Dispatcher, options: MioOptions) -> APIRouter:
    router = APIRouter()
    slots = TurnSlots(options.turns_per_user)

    async def mio_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            request_id, client = await _log_in(websocket, auth, options)
        except LoginFailed as exc:
            with contextlib.suppress(Exception):
                await websocket.close(exc.code, _close_reason(exc.reason))
            return
        except (ClientLeft, WebSocketDisconnect, OSError, RuntimeError):  # the client left during login
            return
        socket = MioSocket(websocket, client, dispatcher, options, slots)
        forwarder = asyncio.create_task(socket.forward_pushes(services))
        try:
            await socket.subscribed.wait()
            login_id = request_id if request_id is not None else next(dispatcher.push_ids)
            await socket.send(success(login_id, await dispatcher.openai.login_data(client), protocol="system",
                                      type_="login"))
            await socket.serve()
        except Exception:  # the client went away; its running turns are stopped below
            pass
        finally:
            forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await forwarder
            await socket.stop_all()

    for path in WS_PATHS:
        router.add_api_websocket_route(path, mio_socket)
    return router
