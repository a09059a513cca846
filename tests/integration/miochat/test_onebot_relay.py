"""Mio-Chat's onebot messages reach the real QQ chat through a connected OneBot bot (as the
original backend handed them to its OneBot server), for a credential with the `im` scope; a
refusal is reported to the client in a failure frame of its request_id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import httpx
from websockets.asyncio.client import connect

from tests.integration.miochat.conftest import MioWs
from tests.integration.platforms.onebot11.conftest import Bot, StartBot, start_bot
from tests.support.app_settings import ADMIN
from tests.support.fakes import eventually
from tests.support.onebot_peer import plain_text

__all__ = ["start_bot"]


async def key_with(base_url: str, scopes: list[str]) -> str:
    async with httpx.AsyncClient(base_url=base_url) as client:
        login = await client.post("/api/auth/login", json={"username": ADMIN.username, "password": ADMIN.password})
        token = login.json()["data"]["access_token"]
        created = await client.post("/api/keys", json={"name": "mio", "scopes": scopes},
                                    headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        return str(created.json()["data"]["key"])


@asynccontextmanager
async def mio_socket(bot: Bot, key: str) -> AsyncIterator[MioWs]:
    query = urlencode({"mio-chat-id": 12345, "mio-chat-token": key})
    async with connect(bot.base_url.replace("http://", "ws://") + f"/api/gateway?{query}") as conn:
        ws = MioWs(conn)
        assert (await ws.recv())["type"] == "login"
        yield ws


def to_contact(request_id: str, contact: str, text: str) -> dict[str, object]:
    # frontend src/lib/adapter/onebot.js (14e7895): fetch('/api/onebot/message/' + id, message)
    return {"request_id": request_id, "protocol": "onebot", "type": "message", "id": contact,
            "data": [{"type": "text", "data": {"text": text}}]}


async def test_a_message_to_a_onebot_contact_reaches_its_qq_chat(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    await eventually(lambda: "qq" in bot.runtime.services.proactive.platforms)
    async with mio_socket(bot, await key_with(bot.base_url, ["chat", "im"])) as ws:
        ack = await ws.request(to_contact("m1", "20001", "来自网页的你好"))
        assert ack["code"] == 0 and isinstance(ack["data"]["message_id"], int)
        [sent] = peer.sent("send_private_msg")
        assert sent["params"]["user_id"] == 20001 and plain_text(sent["params"]["message"]) == "来自网页的你好"
        peer.refuse["send_private_msg"] = "friend not found"
        refused = await ws.request(to_contact("m2", "20002", "hello"))
        assert refused["code"] == 1 and "friend not found" in refused["data"]["reason"]
    assert not bot.upstream.requests  # the Switchboard bot did not answer in its place


async def test_without_the_im_scope_the_switchboard_bot_answers(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    await eventually(lambda: "qq" in bot.runtime.services.proactive.platforms)
    async with mio_socket(bot, await key_with(bot.base_url, ["chat"])) as ws:
        await ws.send(to_contact("m1", "20001", "hi"))
        push = (await ws.until(lambda f: f.get("protocol") == "onebot"))[-1]
        assert push["data"]["id"] == "20001"
    assert not peer.sent("send_private_msg")
    assert bot.upstream.last.json["stream"] is False  # pushed as one message: asked for whole
