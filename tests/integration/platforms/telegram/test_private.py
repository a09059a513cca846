"""Private chats: always answered by the engine, the answer streamed into one message (sent, then
edited) and complete at the end; the sender gets a Telegram identity of their own."""

from __future__ import annotations

import asyncio

from tests.integration.platforms.telegram.conftest import StartBot
from tests.support.fakes import eventually
from tests.support.upstream_wire import Reply

ALICE = 501


async def test_a_private_message_is_answered_by_the_model(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.upstream.push(Reply(text="Hello from the model", usage=(5, 4)))
    bot.api.private(ALICE, "hi there", username="alice")
    await eventually(lambda: bot.api.texts(ALICE) == ["Hello from the model"])
    [sent] = bot.api.sent("sendMessage")
    assert int(sent.params["chat_id"]) == ALICE and "reply_parameters" not in sent.params
    request = bot.upstream.requests[-1].json
    assert request["messages"][-1]["content"] in ("hi there", [{"type": "text", "text": "hi there"}])
    async with bot.runtime.uow() as tx:
        identity = await tx.identities.get("telegram", str(ALICE))
        assert identity is not None
        user = await tx.users.get(identity.user_id)
    assert user is not None and user.username.startswith("telegram-")


async def test_the_answer_grows_in_one_message_by_edits(start_bot: StartBot) -> None:
    bot = await start_bot()
    gate = asyncio.Event()
    bot.upstream.push(Reply(text="one two three four five six", gate=gate, gate_after=3))
    bot.api.private(ALICE, "count")
    [first] = await bot.api.wait_calls(1, "sendMessage")
    assert first.params["text"] in ("one", "one two")  # what had come when the stream was held
    assert "parse_mode" not in first.params  # half an answer is sent plain
    gate.set()
    await eventually(lambda: bot.api.texts(ALICE) == ["one two three four five six"])
    assert len(bot.api.sent("sendMessage")) == 1
    assert bot.upstream.last.json["stream"] is True
    final = bot.api.sent("editMessageText")[-1]
    assert final.params["parse_mode"] == "HTML" and final.params["message_id"] == first.answer["result"]["message_id"]


async def test_a_markdown_answer_is_formatted(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.upstream.push(Reply(text="Use **bold** and `a < b`:\n```python\nprint(1)\n```"))
    bot.api.private(ALICE, "format")
    await eventually(lambda: bot.api.texts(ALICE) == ["Use bold and a < b:\nprint(1)"])
    html = bot.api.sent("editMessageText")[-1].params["text"]
    assert "<b>bold</b>" in html and "<code>a &lt; b</code>" in html
    assert '<pre><code class="language-python">print(1)</code></pre>' in html


async def test_refused_formatting_is_sent_again_as_plain_text(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.reject_entities = True
    bot.upstream.push(Reply(text="Some *odd* markdown_here"))
    bot.api.private(ALICE, "format")
    await eventually(lambda: bot.api.texts(ALICE) == ["Some *odd* markdown_here"])
    edits = [c for c in bot.api.calls if c.method == "editMessageText"]
    assert [("parse_mode" in c.params, c.answer["ok"]) for c in edits][-2:] == [(True, False), (False, True)]


async def test_the_conversation_continues(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.private(ALICE, "first")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: first"])
    bot.api.private(ALICE, "second")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: first", "Echo: second"])
    contents = [m["content"] for m in bot.upstream.requests[-1].json["messages"]]
    assert len([c for c in contents if "first" in str(c)]) == 2  # the question and the echoed answer


async def test_the_platform_reports_its_bot_and_masks_the_token(start_bot: StartBot) -> None:
    bot = await start_bot()
    assert bot.state.status == "connected" and list(bot.state.bots) == ["switchboard_bot"]
    assert bot.state.settings["token"] == "***"


async def test_the_chat_shows_typing_while_the_answer_is_made(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.api.private(ALICE, "hi")
    await eventually(lambda: bot.api.texts(ALICE) == ["Echo: hi"])
    [typing, *_] = await bot.api.wait_calls(1, "sendChatAction")
    assert typing.params == {"chat_id": str(ALICE), "action": "typing"}
