"""A platform message as an engine turn: the sender's linked user (made on first contact when the
platform allows it), their conversation for this chat, and the slash commands every platform and
MuseBot share (core.services.commands) — the platform only translates.

    chat = PlatformChat(services, limiter, options)
    text = await chat.accept(message)           # None: stay silent (not addressed, rate-limited)
    if text is not None:
        reply = await chat.reply(message, text)  # the whole answer: text and images
    # or, to show it growing (Telegram edits its message): async for piece in chat.answer(message, text)
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from switchboard.core.domain.errors import DomainError
from switchboard.core.ports.gateway import RateLimiter
from switchboard.core.services.bundle import Services
from switchboard.core.services.commands.slash import CommandStyle, parse_command, sentence
from switchboard.platforms._shared.images import ImageLoader
from switchboard.platforms._shared.messages import Image, Incoming, Reply
from switchboard.platforms._shared.triggers import TriggerPolicy, triggered

log = logging.getLogger("switchboard.platforms")


@dataclass(frozen=True, slots=True)
class ChatOptions:
    identity_platform: str  # whose ids these are: "qq", "telegram" (one person, one identity, every bot)
    triggers: TriggerPolicy = field(default_factory=TriggerPolicy)
    allow_new_users: bool = True
    group_conversation: Literal["group", "user"] = "group"
    messages_per_minute: int | None = 20
    max_input_chars: int = 8000


class PlatformChat:
    def __init__(self, services: Services, limiter: RateLimiter, options: ChatOptions,
                 images: ImageLoader | None = None) -> None:
        self._services = services
        self._limiter = limiter
        self.options = options
        self._images = images or ImageLoader(services.files.max_bytes)

    async def accept(self, message: Incoming) -> str | None:
        """The text to answer, or None when the bot stays silent: not addressed in a group, or the
        sender is over their rate (a flood gets no answers, which would only feed it)."""
        text = triggered(message, self.options.triggers)
        if text is None or (not text and not message.images):
            return None
        if self.options.messages_per_minute is not None:
            key = f"im:{message.platform_id}:{message.sender_id}"
            if await self._limiter.acquire(key, rpm=self.options.messages_per_minute, tpm=None) is not None:
                log.info("%s: %s is over the rate limit; message dropped", message.platform_id, message.sender_id)
                return None
        return text

    async def answer(self, message: Incoming, text: str, *, streamed: bool = True) -> AsyncIterator[str | Image]:
        """The answer as it comes: text pieces and made images. Failures are a sentence, never raised.
        `streamed` False: it is sent as one message, so the model is asked for it whole."""
        if len(text) > self.options.max_input_chars:
            yield f"⚠️ Your message is too long (at most {self.options.max_input_chars} characters).\n"
            return
        command, code = parse_command(text)
        if command == "link":  # before contact: it is how someone the platform would refuse gets in
            yield await self._link(message, code)
            return
        try:
            user, identity = await self._services.identities.contact(
                self.options.identity_platform, message.sender_id, message.sender_name,
                allow_new=self.options.allow_new_users)
            key = message.sender_id
            if message.chat == "group" and self.options.group_conversation == "group":
                key = f"group:{message.chat_id}"
            session = await self._services.commands.open_contact(user, identity, self.options.identity_platform,
                                                                 key, CommandStyle(streamed=streamed))
        except DomainError as exc:
            yield sentence(exc)
            return
        body = b""
        if message.images:  # an image that cannot be had (refused address, too large ...) is left out, said so
            try:
                body = await self._images.load(message.images[0])
            except DomainError as exc:
                log.info("%s: the image of %s was left out: %s", message.platform_id, message.sender_id, exc.message)
                yield f"⚠️ Your image was left out: {exc.message}\n"
                if not text:
                    return
        async for chunk in self._services.commands.run(session, text, body):
            media = _data_media(chunk)
            yield media if media is not None else chunk

    async def _link(self, message: Incoming, code: str) -> str:
        if not code:
            return "Send /link <code> with the code from your Switchboard account.\n"
        try:
            user = await self._services.identities.redeem(self.options.identity_platform, message.sender_id, code,
                                                          message.sender_name)
        except DomainError as exc:
            return sentence(exc)
        return f"Linked: this account now talks as {user.username}.\n"

    async def reply(self, message: Incoming, text: str) -> Reply:
        reply = Reply()
        pieces: list[str] = []
        async for piece in self.answer(message, text, streamed=False):
            if isinstance(piece, Image):
                reply.images.append(piece)
            else:
                pieces.append(piece)
        reply.text = "".join(pieces).strip()
        return reply


def _data_media(chunk: str) -> Image | None:
    """The commands hand made pictures, videos and speech over as data URIs (MuseBot prints them);
    a platform sends them as media (`Image.mime` says which)."""
    if not chunk.startswith(("data:image/", "data:video/", "data:audio/")):
        return None
    header, _, payload = chunk.partition(",")
    try:
        return Image(base64.b64decode(payload), header[5:].split(";")[0])
    except (binascii.Error, ValueError):
        return None
