"""Bot API updates (wire) -> the shared `Incoming`. Only `message` updates are answered: edits,
channel posts and the rest are read and skipped; a malformed update is None, never an exception.

In groups the bot is addressed by `@its_username` (or a text mention of it), a reply to one of its
messages, or a `/command` (`/command@its_username`, not one for another bot); the mention is taken
out of the text the model sees."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.platforms._shared.messages import Incoming


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class User(_Wire):
    id: int
    is_bot: bool = False
    first_name: str = ""
    username: str | None = None


class Chat(_Wire):
    id: int
    type: str  # private, group, supergroup, channel


class PhotoSize(_Wire):
    file_id: str
    width: int = 0
    height: int = 0
    file_size: int | None = None


class Entity(_Wire):
    type: str
    offset: int
    length: int
    user: User | None = None


class Message(_Wire):
    message_id: int
    chat: Chat
    from_: User | None = Field(default=None, alias="from")
    text: str | None = None
    caption: str | None = None
    entities: list[Entity] = Field(default_factory=list)
    caption_entities: list[Entity] = Field(default_factory=list)
    photo: list[PhotoSize] = Field(default_factory=list)
    reply_to_message: Message | None = None


@dataclass(frozen=True, slots=True)
class Me:
    id: int
    username: str


def read_updates(result: Any) -> tuple[int | None, list[Message]]:
    """The next offset (the last update id + 1; None when nothing had one) and the messages to act on."""
    if not isinstance(result, list):
        return None, []
    last: int | None = None
    messages: list[Message] = []
    for update in result:
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            continue
        last = max(last or update["update_id"], update["update_id"])
        if isinstance(update.get("message"), dict):
            try:
                messages.append(Message.model_validate(update["message"]))
            except ValidationError:
                continue
    return (last + 1 if last is not None else None), messages


def to_incoming(message: Message, platform_id: str, me: Me) -> Incoming | None:
    """None for what is not answered: channels, bots (itself among them), messages without a sender.
    `images` holds the largest photo's file_id; the platform turns it into a download URL."""
    sender = message.from_
    if sender is None or sender.is_bot or message.chat.type not in ("private", "group", "supergroup"):
        return None
    text = message.text if message.text is not None else message.caption or ""
    entities = message.entities if message.text is not None else message.caption_entities
    chat = "private" if message.chat.type == "private" else "group"
    text, addressed = _addressed(text, entities, me)
    reply = message.reply_to_message
    to_bot = reply is not None and reply.from_ is not None and reply.from_.id == me.id
    largest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height), default=None)
    name = f"@{sender.username}" if sender.username else sender.first_name or None
    return Incoming(
        platform_id=platform_id, bot_id=str(me.id), chat=chat, chat_id=str(message.chat.id),
        sender_id=str(sender.id), text=text, message_id=str(message.message_id), sender_name=name,
        mentions_bot=addressed, replies_to_bot=to_bot,
        images=(largest.file_id,) if largest is not None else (),
    )


def _addressed(text: str, entities: list[Entity], me: Me) -> tuple[str, bool]:
    """The text without the bot's mention, and whether it was addressed to the bot."""
    command = re.match(r"/([A-Za-z0-9_]+)(@([A-Za-z0-9_]+))?", text)
    if command is not None:
        target = command.group(3)
        if target is None or target.casefold() == me.username.casefold():
            return "/" + command.group(1) + text[command.end():], True
        return text, False  # a command for another bot in the group
    mention = re.compile(rf"@{re.escape(me.username)}\b", re.IGNORECASE) if me.username else None
    if mention is not None and mention.search(text):
        return re.sub(r"[ \t]{2,}", " ", mention.sub("", text)).strip(), True
    mentioned = any(e.type == "text_mention" and e.user is not None and e.user.id == me.id for e in entities)
    return text, mentioned
