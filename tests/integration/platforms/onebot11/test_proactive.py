"""AstrBot's proactive API reaches the real QQ chat through the connected bot: `qq:GroupMessage:<g>`
and `qq:FriendMessage:<u>`, text and images; im/bots lists the platform while a bot is connected;
a refusal by the implementation is reported to the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.integration.platforms.onebot11.conftest import Bot, StartBot
from tests.integration.platforms.pushing import pusher
from tests.support.fakes import eventually
from tests.support.onebot_peer import plain_text
from tests.support.upstream import PNG_PIXEL


@pytest_asyncio.fixture
async def bot(start_bot: StartBot) -> Bot:
    return await start_bot()


@pytest_asyncio.fixture
async def api(bot: Bot) -> AsyncIterator[httpx.AsyncClient]:
    async with pusher(bot.base_url) as client:
        yield client


async def test_im_bots_lists_the_platform_while_a_bot_is_connected(bot: Bot, api: httpx.AsyncClient) -> None:
    listed = (await api.get("/api/v1/im/bots")).json()["data"]
    assert "qq" not in listed["bot_ids"]
    assert listed["bots"] == [{"id": "qq", "type": "onebot11", "status": "waiting", "running": False,
                               "detail": listed["bots"][0]["detail"], "accounts": []}]
    peer = await bot.peer()
    await peer.lifecycle("connect")
    await eventually(lambda: bot.runtime.services.proactive.platforms[-1:] == ("qq",))
    listed = (await api.get("/api/v1/im/bots")).json()["data"]
    assert listed["bot_ids"] == ["webchat", "miochat", "qq"]
    assert listed["bots"][0]["accounts"] == [{"id": "10000", "online": True}]


async def test_a_proactive_message_reaches_a_group_and_a_friend(bot: Bot, api: httpx.AsyncClient) -> None:
    peer = await bot.peer()
    await eventually(lambda: "qq" in bot.runtime.services.proactive.platforms)
    sent = await api.post("/api/v1/im/message", json={"umo": "qq:GroupMessage:30001", "message": "hello group"})
    assert sent.json()["status"] == "ok"
    [group] = peer.sent("send_group_msg")
    assert group["params"]["group_id"] == 30001 and plain_text(group["params"]["message"]) == "hello group"
    uploaded = await api.post("/api/v1/file", files={"file": ("fox.png", PNG_PIXEL, "image/png")})
    image_id = uploaded.json()["data"]["attachment_id"]
    sent = await api.post("/api/v1/im/message", json={"umo": "qq:FriendMessage:20001", "message": [
        {"type": "plain", "text": "look"}, {"type": "image", "attachment_id": image_id}]})
    assert sent.json()["status"] == "ok"
    text_message, image_message = peer.sent("send_private_msg")
    assert text_message["params"]["user_id"] == 20001 and plain_text(text_message["params"]["message"]) == "look"
    assert image_message["params"]["message"][0]["type"] == "image"


async def test_a_refused_message_is_reported(bot: Bot, api: httpx.AsyncClient) -> None:
    peer = await bot.peer()
    await eventually(lambda: "qq" in bot.runtime.services.proactive.platforms)
    peer.refuse["send_group_msg"] = "bot is muted in this group"
    sent = await api.post("/api/v1/im/message", json={"umo": "qq:GroupMessage:30001", "message": "hello"})
    assert sent.json()["status"] == "error"  # AstrBot's envelope, with its own status codes
    assert "bot is muted in this group" in sent.json()["message"]


async def test_without_a_connected_bot_the_platform_is_not_running(bot: Bot, api: httpx.AsyncClient) -> None:
    sent = await api.post("/api/v1/im/message", json={"umo": "qq:FriendMessage:20001", "message": "hello"})
    assert sent.json()["status"] == "error"
    assert sent.json()["message"] == "Bot not found or not running for platform: qq"


async def test_with_two_bots_a_message_goes_through_the_one_in_that_chat(bot: Bot, api: httpx.AsyncClient) -> None:
    first, second = await bot.peer(10000), await bot.peer(10001)
    assert bot.runtime.platforms is not None
    platform = bot.runtime.platforms.reverse_onebot()[0]
    await eventually(lambda: set(platform.bots) == {"10000", "10001"})
    await second.group(30001, 20001, "chatting among ourselves")  # not addressed: heard, not answered
    await first.group(30002, 20001, "elsewhere")
    await eventually(lambda: platform.bots["10001"].knows("group", "30001")
                     and platform.bots["10000"].knows("group", "30002"))
    for group in (30001, 30002):
        sent = await api.post("/api/v1/im/message", json={"umo": f"qq:GroupMessage:{group}", "message": "hi"})
        assert sent.json()["status"] == "ok"
    assert [a["params"]["group_id"] for a in second.sent("send_group_msg")] == [30001]
    assert [a["params"]["group_id"] for a in first.sent("send_group_msg")] == [30002]
    await second.private(20009, "hello?")  # no bot knows 20010: the one heard from last sends
    await second.wait_actions(1, "send_private_msg")
    sent = await api.post("/api/v1/im/message", json={"umo": "qq:FriendMessage:20010", "message": "news"})
    assert sent.json()["status"] == "ok"
    assert [a["params"]["user_id"] for a in second.sent("send_private_msg")] == [20009, 20010]
    assert first.sent("send_private_msg") == []
