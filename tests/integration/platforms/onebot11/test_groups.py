"""Groups: answered when the bot is @-mentioned, replied to, or woken by a prefix — quoting and @-ing
the asker — and silent otherwise; allow/deny lists; commands; images in and out; long answers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest_asyncio
from aiohttp import web

from tests.integration.platforms.onebot11.conftest import StartBot
from tests.support.onebot_peer import at, image, plain_text, reply, text
from tests.support.upstream import PNG_PIXEL, VIDEO_BYTES, Reply

GROUP, ALICE, BOB = 30001, 20001, 20002


async def test_a_mention_is_answered_quoting_and_mentioning_the_asker(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.upstream.push(Reply(text="Four."))
    peer = await bot.peer()
    asked = await peer.group(GROUP, ALICE, [at(10000), text(" what is 2+2?")])
    [sent] = await peer.wait_actions(1, "send_group_msg")
    assert sent["params"]["group_id"] == GROUP
    message = sent["params"]["message"]
    assert message[0] == {"type": "reply", "data": {"id": str(asked)}}
    assert message[1] == {"type": "at", "data": {"qq": str(ALICE)}}
    assert plain_text(message).strip() == "Four."
    assert bot.upstream.requests[-1].json["stream"] is False  # one reply: the model is asked for it whole
    assert bot.upstream.requests[-1].json["messages"][-1]["content"] in (
        "what is 2+2?", [{"type": "text", "text": "what is 2+2?"}])


async def test_unaddressed_group_chatter_is_not_answered(start_bot: StartBot) -> None:
    bot = await start_bot(wake_words=["/ai"])
    peer = await bot.peer()
    await peer.group(GROUP, ALICE, [text("just chatting")])
    await peer.group(GROUP, ALICE, [at(99999), text(" hey you")])  # someone else mentioned
    await peer.group(GROUP, ALICE, "hello [CQ:at,qq=all]")
    await peer.group(GROUP, BOB, [text("/ai tell a joke")])  # the wake word: answered
    [sent] = await peer.wait_actions(1, "send_group_msg")
    assert sent["params"]["message"][1]["data"]["qq"] == str(BOB)
    assert plain_text(sent["params"]["message"]).strip() == "Echo: tell a joke"
    assert len(bot.upstream.requests) == 1  # nothing before it reached the model


async def test_a_reply_to_the_bot_is_answered(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    await peer.group(GROUP, ALICE, [at(10000), text(" first")])
    await peer.wait_actions(1, "send_group_msg")
    await peer.group(GROUP, BOB, [reply(peer.message_ids[-1]), text("and then?")])
    sent = await peer.wait_actions(2, "send_group_msg")
    assert plain_text(sent[1]["params"]["message"]).strip() == "Echo: and then?"
    await peer.group(GROUP, BOB, [reply(424242), text("a reply to someone else")])
    await peer.group(GROUP, BOB, [at(10000), text("last")])
    sent = await peer.wait_actions(3, "send_group_msg")
    assert plain_text(sent[2]["params"]["message"]).strip() == "Echo: last"


async def test_group_allow_and_deny_lists(start_bot: StartBot) -> None:
    bot = await start_bot(deny_groups=[str(GROUP)])
    peer = await bot.peer()
    await peer.group(GROUP, ALICE, [at(10000), text(" denied")])
    await peer.group(GROUP + 1, ALICE, [at(10000), text(" allowed")])
    [sent] = await peer.wait_actions(1, "send_group_msg")
    assert sent["params"]["group_id"] == GROUP + 1


async def test_slash_commands_are_the_musebot_ones(start_bot: StartBot) -> None:
    bot = await start_bot(settings={"default_token_allowance": 5000})
    peer = await bot.peer()
    await peer.private(ALICE, [text("/balance")])
    [balance] = await peer.wait_actions(1, "send_private_msg")
    assert plain_text(balance["params"]["message"]) == "You have 5000 tokens left (allowance 5000, used 0)."
    await peer.private(ALICE, [text("/help")])
    sent = await peer.wait_actions(2, "send_private_msg")
    assert "/mode" in plain_text(sent[1]["params"]["message"])
    assert bot.upstream.requests == []


async def test_a_spent_allowance_is_a_clear_reply(start_bot: StartBot) -> None:
    bot = await start_bot(settings={"default_token_allowance": 1})
    peer = await bot.peer()
    await peer.private(ALICE, [text("hello")])
    [sent] = await peer.wait_actions(1, "send_private_msg")
    assert plain_text(sent["params"]["message"]).startswith("⚠️")
    assert bot.upstream.requests == []


async def test_an_image_reaches_the_model_as_an_image_part(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    inline = "base64://" + base64.b64encode(PNG_PIXEL).decode()
    await peer.private(ALICE, [text("what is this?"), image(inline)])
    await peer.wait_actions(1, "send_private_msg")
    content = bot.upstream.requests[-1].json["messages"][-1]["content"]
    kinds = [part["type"] for part in content]
    assert "image_url" in kinds and {"type": "text", "text": "what is this?"} in content


@pytest_asyncio.fixture
async def picture_url() -> AsyncIterator[str]:
    """A PNG served on 127.0.0.1: a private address, as an attacker's URL would name one."""
    async def serve_png(request: web.Request) -> web.Response:
        return web.Response(body=PNG_PIXEL, content_type="image/png")

    app = web.Application()
    app.router.add_get("/pic.png", serve_png)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/pic.png"
    await runner.cleanup()


async def test_an_image_at_a_url_is_fetched_for_the_model(start_bot: StartBot, picture_url: str) -> None:
    bot = await start_bot(settings={"tools": {"allow_private_network": True}})  # 127.0.0.1 allowed
    peer = await bot.peer()
    await peer.group(GROUP, ALICE, f"[CQ:at,qq=10000][CQ:image,file=abc.png,url={picture_url}]")
    await peer.wait_actions(1, "send_group_msg")
    content = bot.upstream.requests[-1].json["messages"][-1]["content"]
    assert [part["type"] for part in content] == ["image_url"]
    assert content[0]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG_PIXEL).decode()


async def test_an_image_at_a_private_address_is_refused_and_the_answer_goes_on(start_bot: StartBot,
                                                                               picture_url: str) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    for url in (picture_url, picture_url.replace("127.0.0.1", "localhost")):  # an IP literal, then a name
        await peer.private(ALICE, [text("what is this?"), image("abc.png", url)])
    sent = await peer.wait_actions(2, "send_private_msg")
    for action in sent:
        said = plain_text(action["params"]["message"])
        assert "image was left out" in said and "private or reserved" in said and "Echo: what is this?" in said
    assert all("image_url" not in str(r.json["messages"]) for r in bot.upstream.requests)


async def test_a_made_picture_is_sent_as_an_image_segment(start_bot: StartBot) -> None:
    bot = await start_bot(models=["gpt-test", "gpt-image-1"])
    peer = await bot.peer()
    await peer.private(ALICE, [text("/photo a red fox")])
    [sent] = await peer.wait_actions(1, "send_private_msg")
    [segment] = sent["params"]["message"]
    assert segment == {"type": "image", "data": {"file": "base64://" + base64.b64encode(PNG_PIXEL).decode()}}


async def test_a_long_answer_in_a_group_is_one_forward_message(start_bot: StartBot) -> None:
    bot = await start_bot(max_message_chars=100)
    bot.upstream.push(Reply(text="\n\n".join(f"Paragraph {i}: " + "words " * 12 for i in range(6))))
    peer = await bot.peer()
    await peer.group(GROUP, ALICE, [at(10000), text(" tell me a story")])
    [forward] = await peer.wait_actions(1, "send_group_forward_msg")
    nodes = forward["params"]["messages"]
    assert len(nodes) == 6 and all(n["type"] == "node" for n in nodes)
    assert plain_text(nodes[0]["data"]["content"]).startswith("Paragraph 0:")
    assert peer.sent("send_group_msg") == []


async def test_a_refused_forward_message_goes_piece_by_piece(start_bot: StartBot) -> None:
    bot = await start_bot(max_message_chars=100)
    bot.upstream.push(Reply(text="\n\n".join(f"Paragraph {i}: " + "words " * 12 for i in range(6))))
    peer = await bot.peer()
    peer.refuse["send_group_forward_msg"] = "not supported"
    await peer.group(GROUP, ALICE, [at(10000), text(" tell me a story")])
    sent = await peer.wait_actions(6, "send_group_msg")
    assert all(len(plain_text(s["params"]["message"])) <= 101 for s in sent)  # + the space after the @
    assert plain_text(sent[5]["params"]["message"]).startswith("Paragraph 5:")


async def test_a_long_private_answer_is_split(start_bot: StartBot) -> None:
    bot = await start_bot(max_message_chars=100)
    bot.upstream.push(Reply(text="word " * 100))
    peer = await bot.peer()
    await peer.private(ALICE, [text("go")])
    sent = await peer.wait_actions(5, "send_private_msg")
    assert " ".join(plain_text(s["params"]["message"]) for s in sent) == ("word " * 100).strip()


async def test_a_made_video_is_sent_as_a_video_segment_after_the_progress(start_bot: StartBot) -> None:
    bot = await start_bot(models=["gpt-test", "sora-2"], settings={"media": {"video_poll_seconds": 0.01}})
    bot.upstream.video_steps = 1
    peer = await bot.peer()
    await peer.private(ALICE, [text("/video waves at dusk")])
    sent = await peer.wait_actions(2, "send_private_msg")
    assert "Video job" in plain_text(sent[0]["params"]["message"])
    assert sent[1]["params"]["message"] == [
        {"type": "video", "data": {"file": "base64://" + base64.b64encode(VIDEO_BYTES).decode()}}]
