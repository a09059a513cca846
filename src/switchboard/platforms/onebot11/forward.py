"""Forward WebSocket: Switchboard dials the implementation's Universal endpoint (`ws://host:port/`)
with the access token, and serves the socket until it closes; the supervisor dials again, with
backoff, when it does. The bot's id comes from `get_login_info`, or from the first event."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

from switchboard.core.domain.errors import DomainError
from switchboard.platforms.onebot11.platform import OneBotPlatform

log = logging.getLogger("switchboard.platforms")

MAX_FRAME_BYTES = 16 * 1024 * 1024  # as uvicorn's own limit on the reverse side


class ClientSocket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    async def send_text(self, text: str) -> None:
        await self._ws.send_str(text)

    async def close(self) -> None:
        await self._ws.close()


async def dial(platform: OneBotPlatform) -> None:
    options = platform.options
    assert options.url is not None  # the config requires it in forward mode
    headers = {"Authorization": f"Bearer {options.access_token}"} if options.access_token else {}
    async with aiohttp.ClientSession() as http, http.ws_connect(
            options.url, headers=headers, heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES) as ws:
        socket = ClientSocket(ws)
        platform.state.set("connected")
        learn = asyncio.create_task(_learn_self_id(platform, socket))
        try:
            async for frame in ws:
                if frame.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    platform.feed(frame.data, socket)
                elif frame.type == aiohttp.WSMsgType.ERROR:
                    break
        finally:
            learn.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await learn
            platform.detach(socket)


async def _learn_self_id(platform: OneBotPlatform, socket: ClientSocket) -> None:
    try:
        info = await platform.calls.call(socket, "get_login_info", {})
    except DomainError as exc:  # the first event will tell instead
        log.info("platform %s: get_login_info failed: %s", platform.options.id, exc.message)
        return
    if isinstance(info, dict) and info.get("user_id") is not None:
        self_id = str(info["user_id"])
        if self_id not in platform.bots:
            platform.attach(self_id, socket, "universal")
