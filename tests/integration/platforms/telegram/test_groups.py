"""Groups: answered when the bot is @-mentioned, replied to, or sent a /command (its own, not
another bot's) — quoting the asker — and silent otherwise; slash commands are MuseBot's."""

from __future__ import annotations

from tests.integration.platforms.telegram.conftest import StartBot
from tests.support.fakes import eventually
from tests.support.upstream_wire import Reply

GROUP, ALICE, BOB = -100200, 501, 502


async def test_a_mention_is_answered_quoting_the_asker(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.upstream.push(Reply(text="Four."))
    asked = bot.api.group(GROUP, ALICE, "@switchboard_bot what is 2+2?")
    await eventually(lambda: bot.api.texts(GROUP) == ["Four."])
    [sent] = bot.api.sent("sendMessage")
    assert sent.params["reply_parameters"]["message_id"] == asked
    assert bot.upstream.requests[-1].json["messages"][-1]["content"] in (
        "what is 2+2?", [{"type": "text", "text": "what is 2+2?"}])


async def test_unaddressed_group_chatter_is_not_answered(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.group(GROUP, ALICE, "just chatting")
    bot.api.group(GROUP, ALICE, "hey @someone_else look")
    bot.api.group(GROUP, ALICE, "/start@other_bot")  # a command for another bot in the group
    bot.api.group(GROUP, BOB, "tell a joke @Switchboard_Bot")  # the mention, anywhere, any case: answered
    await eventually(lambda: bot.api.texts(GROUP) == ["Echo: tell a joke"])
    assert len(bot.upstream.requests) == 1  # nothing before it reached the model


async def test_a_text_mention_entity_is_a_mention(start_bot: StartBot) -> None:
    bot = await start_bot()
    entity = {"type": "text_mention", "offset": 0, "length": 3, "user": {"id": 777, "is_bot": True,
                                                                         "first_name": "Switchboard"}}
    bot.api.group(GROUP, ALICE, "Bot, hello", entities=[entity])
    await eventually(lambda: bot.api.texts(GROUP) == ["Echo: Bot, hello"])


async def test_a_reply_to_the_bot_is_answered(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.group(GROUP, ALICE, "@switchboard_bot first")
    await eventually(lambda: bot.api.texts(GROUP) == ["Echo: first"])
    answer = bot.api.sent("sendMessage")[-1].answer["result"]["message_id"]
    bot.api.group(GROUP, BOB, "and then?", reply_to=answer)
    await eventually(lambda: bot.api.texts(GROUP)[-1:] == ["Echo: and then?"])
    someone = bot.api.group(GROUP, ALICE, "not to the bot")
    bot.api.group(GROUP, BOB, "a reply to someone else", reply_to=someone)
    bot.api.group(GROUP, BOB, "@switchboard_bot last")
    await eventually(lambda: bot.api.texts(GROUP)[-1:] == ["Echo: last"])
    assert len(bot.api.texts(GROUP)) == 3


async def test_a_command_is_answered_in_a_group(start_bot: StartBot) -> None:
    bot = await start_bot(settings={"default_token_allowance": 5000})
    bot.api.group(GROUP, ALICE, "/balance@switchboard_bot")
    bot.api.group(GROUP, BOB, "/help")
    await eventually(lambda: len(bot.api.texts(GROUP)) == 2)
    texts = bot.api.texts(GROUP)
    assert "You have 5000 tokens left (allowance 5000, used 0)." in texts
    assert any("/mode" in t for t in texts)
    assert bot.upstream.requests == []


async def test_group_allow_and_deny_lists(start_bot: StartBot) -> None:
    bot = await start_bot(deny_groups=[str(GROUP)])
    bot.api.group(GROUP, ALICE, "@switchboard_bot denied")
    bot.api.group(GROUP - 1, ALICE, "@switchboard_bot allowed")
    await eventually(lambda: bot.api.texts(GROUP - 1) == ["Echo: allowed"])
    assert bot.api.texts(GROUP) == []


async def test_a_long_answer_is_split_into_messages(start_bot: StartBot) -> None:
    bot = await start_bot(max_message_chars=100)
    bot.upstream.push(Reply(text="\n\n".join(f"Paragraph {i}: " + "words " * 12 for i in range(6))))
    bot.api.private(ALICE, "tell me a story")
    await eventually(lambda: len(bot.api.texts(ALICE)) == 6 and bot.api.texts(ALICE)[-1].endswith("words"))
    texts = bot.api.texts(ALICE)
    assert all(len(t) <= 100 for t in texts) and texts[5].startswith("Paragraph 5:")
    assert [t.split(":")[0] for t in texts] == [f"Paragraph {i}" for i in range(6)]


async def test_an_answer_over_telegrams_limit_is_split_at_4096(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.upstream.push(Reply(text="word " * 1000, chunks=20))
    bot.api.private(ALICE, "go")
    await eventually(lambda: " ".join(bot.api.texts(ALICE)) == ("word " * 1000).strip())
    assert len(bot.api.texts(ALICE)) == 2
