"""Images both ways: the largest size of a sent photo is fetched (getFile, then the file URL) and
reaches the model as an image part; a made picture goes out with sendPhoto (multipart)."""

from __future__ import annotations

from tests.integration.platforms.telegram.conftest import StartBot
from tests.support.fakes import eventually
from tests.support.upstream import PNG_PIXEL

ALICE, GROUP = 501, -100200


async def test_a_photo_reaches_the_model_as_an_image_part(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.private(ALICE, photo=PNG_PIXEL, caption="what is this?")
    await eventually(lambda: len(bot.api.texts(ALICE)) == 1)
    [asked] = [c for c in bot.api.calls if c.method == "getFile"]
    assert not asked.params["file_id"].endswith("-small")  # the largest size
    content = bot.upstream.requests[-1].json["messages"][-1]["content"]
    assert {"type": "text", "text": "what is this?"} in content
    assert any(part["type"] == "image_url" for part in content)


async def test_a_photo_in_a_group_is_only_fetched_when_the_bot_is_addressed(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.group(GROUP, ALICE, photo=PNG_PIXEL, caption="holiday")
    bot.api.group(GROUP, ALICE, photo=PNG_PIXEL, caption="@switchboard_bot what is it?")
    await eventually(lambda: len(bot.api.texts(GROUP)) == 1)
    assert len([c for c in bot.api.calls if c.method == "getFile"]) == 1


async def test_a_made_picture_is_sent_as_a_photo(start_bot: StartBot) -> None:
    bot = await start_bot(models=["gpt-test", "gpt-image-1"])
    bot.api.private(ALICE, "/photo a red fox")
    [sent] = await bot.api.wait_calls(1, "sendPhoto")
    assert int(sent.params["chat_id"]) == ALICE and sent.files["photo"] == PNG_PIXEL


async def test_a_photo_telegram_will_not_hand_over_is_left_out_and_the_answer_goes_on(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.fail("getFile", 400, "Bad Request: file is too big")
    bot.api.private(ALICE, photo=PNG_PIXEL, caption="what is this?")
    await eventually(lambda: len(bot.api.texts(ALICE)) == 1 and "Echo" in bot.api.texts(ALICE)[0])
    [said] = bot.api.texts(ALICE)
    assert "image was left out" in said and "Echo: what is this?" in said
    assert "image_url" not in str(bot.upstream.requests[-1].json["messages"])
    bot.api.fail("getFile", 400, "Bad Request: file is too big")
    bot.api.private(ALICE, photo=PNG_PIXEL)  # a photo alone: only the note
    await eventually(lambda: len(bot.api.texts(ALICE)) == 2)
    assert "image was left out" in bot.api.texts(ALICE)[1] and len(bot.upstream.requests) == 1
