"""AstrBot's proactive API reaches a real Telegram chat: `tg:FriendMessage:<chat>` and
`tg:GroupMessage:<chat>` through the polling bot, text and images; im/bots lists it; a message
Telegram refuses is the caller's error; administrators see the bot, its token masked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.integration.platforms.pushing import pusher
from tests.integration.platforms.telegram.conftest import Bot, StartBot
from tests.support.app_settings import ADMIN
from tests.support.fakes import eventually
from tests.support.telegram_api import TOKEN
from tests.support.upstream import PNG_PIXEL

ALICE, GROUP = 501, -100200


@pytest_asyncio.fixture
async def bot(start_bot: StartBot) -> Bot:
    return await start_bot()


@pytest_asyncio.fixture
async def http(bot: Bot) -> AsyncIterator[httpx.AsyncClient]:
    async with pusher(bot.base_url) as client:
        yield client


async def test_im_bots_lists_the_telegram_bot(bot: Bot, http: httpx.AsyncClient) -> None:
    await eventually(lambda: "tg" in bot.runtime.services.proactive.platforms)
    listed = (await http.get("/api/v1/im/bots")).json()["data"]
    assert "tg" in listed["bot_ids"]
    [tg] = [b for b in listed["bots"] if b["id"] == "tg"]
    assert tg["type"] == "telegram" and tg["accounts"] == [{"id": "switchboard_bot", "online": True}]


async def test_a_proactive_message_reaches_a_chat_and_a_group(bot: Bot, http: httpx.AsyncClient) -> None:
    sent = await http.post("/api/v1/im/message", json={"umo": f"tg:GroupMessage:{GROUP}", "message": "hello group"})
    assert sent.json()["status"] == "ok", sent.text
    assert bot.api.texts(GROUP) == ["hello group"]
    uploaded = await http.post("/api/v1/file", files={"file": ("fox.png", PNG_PIXEL, "image/png")})
    image_id = uploaded.json()["data"]["attachment_id"]
    sent = await http.post("/api/v1/im/message", json={"umo": f"tg:FriendMessage:{ALICE}", "message": [
        {"type": "plain", "text": "look"}, {"type": "image", "attachment_id": image_id}]})
    assert sent.json()["status"] == "ok", sent.text
    assert bot.api.texts(ALICE) == ["look"]
    [photo] = bot.api.sent("sendPhoto")
    assert int(photo.params["chat_id"]) == ALICE and photo.files["photo"] == PNG_PIXEL


async def test_a_refused_message_is_reported(bot: Bot, http: httpx.AsyncClient) -> None:
    bot.api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    sent = await http.post("/api/v1/im/message", json={"umo": f"tg:FriendMessage:{ALICE}", "message": "hello"})
    assert sent.json()["status"] == "error"
    assert "bot was blocked by the user" in sent.json()["message"]


async def test_administrators_see_the_bot_with_its_token_masked(bot: Bot) -> None:
    async with httpx.AsyncClient(base_url=bot.base_url) as client:
        login = await client.post("/api/auth/login", json={"username": ADMIN.username, "password": ADMIN.password})
        admin = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        [tg] = (await client.get("/api/admin/platforms", headers=admin)).json()["data"]
    assert TOKEN not in str(tg)
    assert (tg["id"], tg["status"], tg["running"]) == ("tg", "connected", True)
    assert tg["settings"]["token"] == "***" and tg["settings"]["api_base"] == bot.api.base_url
