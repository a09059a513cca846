"""Answers as Bot API calls. An answer being made is shown growing, as MuseBot does: its first text
goes out with `sendMessage`, then the same message is edited (`editMessageText`) at most once per
`edit_interval` while it grows — plain text then, since half an answer is half-open Markdown — and
edited a last time, whole and formatted, when it ends. Text past `max_chars` closes that message and
goes on in a new one. Formatted text Telegram refuses ("can't parse entities") is sent again as
plain text; made images follow as photos (`sendPhoto`, multipart), videos and speech likewise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from switchboard.platforms._shared.messages import Image, Reply, Target
from switchboard.platforms._shared.splitting import split_text
from switchboard.platforms.telegram.connection import ApiError, BotApi
from switchboard.platforms.telegram.formatting import to_html

log = logging.getLogger("switchboard.platforms")


@dataclass(frozen=True, slots=True)
class SendOptions:
    max_chars: int = 4096  # Telegram's limit for one message's text
    edit_interval: float = 1.0  # seconds between edits of a growing answer
    markdown: bool = True  # send answers as formatted HTML (else plain text)


_MEDIA = {"image": ("sendPhoto", "photo"), "video": ("sendVideo", "video"), "audio": ("sendAudio", "audio")}


class Sender:
    def __init__(self, api: BotApi, options: SendOptions) -> None:
        self.api = api
        self.options = options

    async def send_text(self, chat_id: str, text: str, *, quote: str | None = None, formatted: bool = True) -> int:
        """Sends one message (no longer than max_chars) and returns its message_id."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if quote:
            params["reply_parameters"] = {"message_id": int(quote), "allow_sending_without_reply": True}
        result = await self._formatted("sendMessage", params, formatted)
        return int(result["message_id"]) if isinstance(result, dict) and "message_id" in result else 0

    async def edit_text(self, chat_id: str, message_id: int, text: str, *, formatted: bool = True) -> None:
        params = {"chat_id": chat_id, "message_id": message_id, "text": text}
        try:
            await self._formatted("editMessageText", params, formatted)
        except ApiError as exc:
            if "message is not modified" not in exc.message:  # the same text again: nothing to do
                raise

    async def send_media(self, chat_id: str, media: Image, *, quote: str | None = None) -> None:
        """A made picture (sendPhoto), video (sendVideo) or speech (sendAudio), uploaded as multipart."""
        method, field = _MEDIA.get(media.mime.partition("/")[0], ("sendDocument", "document"))
        params: dict[str, Any] = {"chat_id": chat_id}
        if quote:
            params["reply_parameters"] = {"message_id": int(quote), "allow_sending_without_reply": True}
        await self.api.call(method, params, files={field: (media.data, media.mime)}, limit=120.0)

    async def deliver(self, target: Target, reply: Reply) -> None:
        """A message the bot starts: whole, split, its images after it. Failures are the caller's."""
        for piece in split_text(reply.text, self.options.max_chars):
            await self.send_text(target.chat_id, piece)
        for image in reply.images:
            await self.send_media(target.chat_id, image)

    async def stream(self, chat_id: str, answer: AsyncIterator[str | Image], quote: str | None = None) -> None:
        growing = Growing(self, chat_id, quote)
        images: list[Image] = []
        async for piece in answer:
            if isinstance(piece, Image):
                images.append(piece)
            else:
                await growing.add(piece)
        await growing.finish()
        for image in images:
            await self.send_media(chat_id, image, quote=quote)

    async def _formatted(self, method: str, params: dict[str, Any], formatted: bool) -> Any:
        if not (formatted and self.options.markdown):
            return await self.api.call(method, params)
        try:
            return await self.api.call(method, {**params, "text": to_html(params["text"]), "parse_mode": "HTML"})
        except ApiError as exc:
            if exc.status != 400 or "can't parse entities" not in exc.message:
                raise
            log.info("Telegram %s: formatting refused (%s); sent as plain text", method, exc.message)
            return await self.api.call(method, params)


class Growing:
    """One answer in one chat as it grows: which message shows it, from where in the text."""

    def __init__(self, sender: Sender, chat_id: str, quote: str | None) -> None:
        self._sender = sender
        self._chat_id = chat_id
        self._quote = quote  # only the first message quotes the asker
        self._text = ""
        self._start = 0  # where the current message's part of the text begins
        self._message_id: int | None = None
        self._shown = ""
        self._last_edit = 0.0

    async def add(self, piece: str) -> None:
        self._text += piece
        limit = self._sender.options.max_chars
        while len(current := self._current()) > limit:
            head = split_text(current, limit)[0]
            await self._put(head, final=True)  # this message is full: close it, whole and formatted
            raw = self._text[self._start:]
            self._start += len(raw) - len(raw.lstrip()) + len(head)
            self._message_id, self._shown = None, ""
        current = self._current()
        now = asyncio.get_running_loop().time()
        if current and current != self._shown and (
                self._message_id is None or now - self._last_edit >= self._sender.options.edit_interval):
            await self._put(current, final=False)

    async def finish(self) -> None:
        pieces = split_text(self._current(), self._sender.options.max_chars)
        for piece in pieces:
            await self._put(piece, final=True)
            self._message_id = None  # the rest, if any, are new messages

    def _current(self) -> str:
        return self._text[self._start:].strip()

    async def _put(self, text: str, *, final: bool) -> None:
        if self._message_id is None:
            self._message_id = await self._sender.send_text(self._chat_id, text, quote=self._quote, formatted=final)
            self._quote = None
        else:
            await self._sender.edit_text(self._chat_id, self._message_id, text, formatted=final)
        self._shown = text
        self._last_edit = asyncio.get_running_loop().time()
