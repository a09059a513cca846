"""Telegram misbehaving: flood control (429 with retry_after) waited out as asked, the API going
away and coming back (retried with backoff, reported in the state, nothing answered twice, the
token in no log), and updates the bot cannot read skipped without stopping the polling."""

from __future__ import annotations

import logging

import pytest

from tests.integration.platforms.telegram.conftest import StartBot
from tests.support.fakes import eventually
from tests.support.telegram_api import TOKEN

ALICE = 501


async def test_a_429_is_waited_out_for_its_retry_after(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    bot.api.private(ALICE, "hi")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: hi"])
    attempts = [c for c in bot.api.calls if c.method == "sendMessage"]
    assert [c.answer["ok"] for c in attempts] == [False, True]
    assert bot.api.early == 0  # nothing came back before Telegram's retry_after had passed


async def test_a_429_on_getupdates_does_not_stop_the_polling(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.fail("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    bot.api.private(ALICE, "one")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: one"])
    bot.api.private(ALICE, "two")  # fetched after the refused poll, whichever poll was held first
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: one", "Echo: two"])
    assert any(c.method == "getUpdates" and c.answer.get("error_code") == 429 for c in bot.api.calls)
    assert bot.api.early == 0 and bot.state.status == "connected"


async def test_a_409_conflict_on_getupdates_is_reported_and_polling_resumes(start_bot: StartBot) -> None:
    bot = await start_bot(reconnect_initial_seconds=1, reconnect_max_seconds=1)
    bot.api.fail("getUpdates", 409, "Conflict: terminated by other getUpdates request")
    bot.api.private(ALICE, "hi")
    await eventually(lambda: bot.state.status == "retrying" and "Conflict" in (bot.state.detail or ""))
    assert "webhook" in (bot.state.detail or "")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: hi"], within=10)
    await eventually(lambda: bot.state.status == "connected", within=10)


async def test_the_api_going_away_and_coming_back(start_bot: StartBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await start_bot()
    bot.api.private(ALICE, "before")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: before"])
    await bot.api.stop()
    await eventually(lambda: bot.state.status == "retrying")
    assert "retrying in" in (bot.state.detail or "")
    await bot.api.start()  # the same address
    await eventually(lambda: bot.state.status == "connected")
    bot.api.private(ALICE, "after")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: before", "Echo: after"])
    assert len(bot.upstream.requests) == 2  # "before" was not answered again
    assert TOKEN not in caplog.text and TOKEN not in (bot.state.detail or "")


async def test_a_wrong_token_is_reported_and_retried(start_bot: StartBot, caplog: pytest.LogCaptureFixture) -> None:
    bot = await start_bot(wait=False, token="999:WRONG-secret")
    await eventually(lambda: bot.state.status == "retrying" and "Unauthorized" in (bot.state.detail or ""))
    assert "WRONG-secret" not in caplog.text


async def test_malformed_updates_are_skipped(start_bot: StartBot) -> None:
    bot = await start_bot()
    for update in ["junk", 42, None, {"no": "update_id"}, {"update_id": "x"},
                   {"update_id": 1, "message": "not an object"},
                   {"update_id": 2, "message": {"message_id": 1, "text": "no chat"}},
                   {"update_id": 3, "message": {"message_id": "x", "chat": {"id": "y"}, "from": []}},
                   {"update_id": 4, "edited_message": {"message_id": 1, "chat": {"id": ALICE, "type": "private"},
                                                       "from": {"id": ALICE, "first_name": "a"}, "text": "edit"}},
                   {"update_id": 5, "channel_post": {"message_id": 1, "chat": {"id": -5, "type": "channel"},
                                                     "text": "news"}},
                   {"update_id": 6, "message": {"message_id": 9, "chat": {"id": ALICE, "type": "private"},
                                                "from": {"id": 888, "is_bot": True, "first_name": "b"},
                                                "text": "from a bot"}}]:
        bot.api.push(update)
    bot.api.private(ALICE, "hello")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: hello"])
    await eventually(lambda: bot.api.pending() == 0)  # every update confirmed, none handed out again
    assert len(bot.upstream.requests) == 1 and bot.state.status == "connected"
