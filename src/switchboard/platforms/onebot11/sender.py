"""Answers as OneBot 11 actions: split into messages no longer than `max_chars`, the first quoting
the asker and @-ing them in groups; in a group an answer of many messages goes as one forward
message (`send_group_forward_msg`), or piece by piece when the implementation refuses that."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from switchboard.platforms._shared.messages import Incoming, Reply, Target
from switchboard.platforms._shared.splitting import split_text
from switchboard.platforms.onebot11.connection import ActionFailed, Bot
from switchboard.platforms.onebot11.segments import Segment, at_segment, media_segment, reply_segment, text_segment

log = logging.getLogger("switchboard.platforms")


@dataclass(frozen=True, slots=True)
class SendOptions:
    max_chars: int = 3000
    forward_after: int = 3  # more messages than this in a group: one forward message
    name: str = "Switchboard"  # the sender shown on a forward message's nodes


def messages_of(reply: Reply, max_chars: int) -> list[list[Segment]]:
    texts = [[text_segment(piece)] for piece in split_text(reply.text, max_chars)]
    return texts + [[media_segment(image.data, image.mime)] for image in reply.images]


async def send_to(bot: Bot, target: Target, message: list[Segment]) -> str | None:
    if target.chat == "group":
        return await bot.send("send_group_msg", {"group_id": _id(target.chat_id), "message": message})
    return await bot.send("send_private_msg", {"user_id": _id(target.chat_id), "message": message})


async def send_reply(bot: Bot, to: Incoming, reply: Reply, options: SendOptions) -> None:
    messages = messages_of(reply, options.max_chars)
    if not messages:
        return
    target = Target(to.chat, to.chat_id)
    if to.chat == "group":
        if len(messages) > options.forward_after and await _forward(bot, target, messages, options):
            return
        quote = [reply_segment(to.message_id)] if to.message_id else []
        messages[0] = [*quote, at_segment(to.sender_id), text_segment(" "), *messages[0]]
    for message in messages:
        await send_to(bot, target, message)


async def deliver(bot: Bot, target: Target, reply: Reply, options: SendOptions) -> None:
    """A message the bot starts: failures are the caller's to report."""
    messages = messages_of(reply, options.max_chars)
    if target.chat == "group" and len(messages) > options.forward_after and await _forward(
            bot, target, messages, options):
        return
    for message in messages:
        await send_to(bot, target, message)


async def _forward(bot: Bot, target: Target, messages: list[list[Segment]], options: SendOptions) -> bool:
    nodes = [{"type": "node", "data": {"name": options.name, "uin": bot.self_id, "content": m}} for m in messages]
    try:
        await bot.send("send_group_forward_msg", {"group_id": _id(target.chat_id), "messages": nodes})
    except ActionFailed as exc:  # not every implementation has it; the pieces still go
        log.info("QQ bot %s: forward message refused (%s); sending the pieces", bot.self_id, exc.message)
        return False
    return True


def _id(value: str) -> int | str:
    """QQ ids are numbers on the wire; anything else is passed as it came."""
    return int(value) if value.isdigit() else value
