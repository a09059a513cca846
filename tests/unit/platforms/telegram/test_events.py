"""Bot API updates as the shared Incoming: who is addressed in a group, what the model reads,
which photo size is fetched; malformed updates skipped with the offset still moving on."""

from __future__ import annotations

from typing import Any

from switchboard.platforms.telegram.events import Me, Message, read_updates, to_incoming

ME = Me(777, "switchboard_bot")


def message(text: str | None = "hi", chat: dict[str, Any] | None = None, **extra: Any) -> Message:
    raw = {"message_id": 5, "chat": chat or {"id": -100, "type": "supergroup"},
           "from": {"id": 501, "is_bot": False, "first_name": "Alice", "username": "alice"}, **extra}
    if text is not None:
        raw["text"] = text
    return Message.model_validate(raw)


def test_a_private_message() -> None:
    incoming = to_incoming(message("hello", {"id": 501, "type": "private"}), "tg", ME)
    assert incoming is not None
    assert (incoming.chat, incoming.chat_id, incoming.sender_id, incoming.text) == ("private", "501", "501", "hello")
    assert incoming.sender_name == "@alice"


def test_a_mention_is_taken_out_of_the_text() -> None:
    incoming = to_incoming(message("hey @Switchboard_Bot  what now?"), "tg", ME)
    assert incoming is not None and incoming.mentions_bot and incoming.text == "hey what now?"
    other = to_incoming(message("hey @switchboard_bot_fan"), "tg", ME)
    assert other is not None and not other.mentions_bot


def test_commands_for_the_bot_and_for_others() -> None:
    mine = to_incoming(message("/balance@switchboard_bot now"), "tg", ME)
    assert mine is not None and mine.mentions_bot and mine.text == "/balance now"
    bare = to_incoming(message("/help"), "tg", ME)
    assert bare is not None and bare.mentions_bot
    theirs = to_incoming(message("/start@other_bot"), "tg", ME)
    assert theirs is not None and not theirs.mentions_bot


def test_a_reply_to_the_bot() -> None:
    replied = {"message_id": 4, "chat": {"id": -100, "type": "supergroup"},
               "from": {"id": 777, "is_bot": True, "first_name": "Switchboard"}, "text": "earlier"}
    incoming = to_incoming(message("and?", reply_to_message=replied), "tg", ME)
    assert incoming is not None and incoming.replies_to_bot and not incoming.mentions_bot


def test_the_largest_photo_and_its_caption() -> None:
    photo = [{"file_id": "small", "width": 90, "height": 90, "file_size": 10},
             {"file_id": "large", "width": 800, "height": 800, "file_size": 900}]
    incoming = to_incoming(message(None, photo=photo, caption="@switchboard_bot what is it?"), "tg", ME)
    assert incoming is not None and incoming.images == ("large",) and incoming.text == "what is it?"


def test_channels_and_bots_are_not_answered() -> None:
    assert to_incoming(message("news", {"id": -5, "type": "channel"}), "tg", ME) is None
    raw = {"message_id": 1, "chat": {"id": 1, "type": "private"}, "from": {"id": 888, "is_bot": True,
                                                                           "first_name": "b"}, "text": "x"}
    assert to_incoming(Message.model_validate(raw), "tg", ME) is None


def test_malformed_updates_are_skipped_and_the_offset_moves_on() -> None:
    good = {"update_id": 12, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"},
                                         "from": {"id": 1, "first_name": "a"}, "text": "ok"}}
    offset, messages = read_updates(["junk", {"update_id": 10, "message": {"chat": 3}}, good,
                                     {"update_id": 11, "edited_message": {}}])
    assert offset == 13 and [m.text for m in messages] == ["ok"]
    assert read_updates({"not": "a list"}) == (None, [])
