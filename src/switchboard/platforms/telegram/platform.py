"""One configured Telegram bot: it learns who it is (`getMe`), long-polls `getUpdates` from the
last offset, and answers each message in a task of its own through the shared PlatformChat, the
answer streamed into the chat (sender). The offset outlives a lost connection, so nothing is
answered twice when the API comes back; the supervisor runs `run` again, with backoff, after any
failure."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from switchboard.core.domain.errors import DomainError
from switchboard.platforms._shared.chat import PlatformChat
from switchboard.platforms._shared.messages import Image, Incoming, Reply, Target
from switchboard.platforms._shared.supervisor import BotState, PlatformState
from switchboard.platforms.telegram.connection import ApiError, BotApi
from switchboard.platforms.telegram.events import Me, read_updates, to_incoming
from switchboard.platforms.telegram.sender import Sender, SendOptions

log = logging.getLogger("switchboard.platforms")

MAX_ANSWERING = 64  # messages being answered at once; more are dropped (a flood must not grow memory)
TYPING_EVERY = 4.0  # seconds; Telegram shows "typing…" for about 5 s after each sendChatAction


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    id: str
    poll_timeout: int = 30  # seconds Telegram holds an empty getUpdates open
    send: SendOptions = field(default_factory=SendOptions)


class TelegramBot:
    exclusive = True  # two pollers of one token get 409 Conflict: one worker polls

    def __init__(self, options: TelegramOptions, chat: PlatformChat, api: BotApi) -> None:
        self.options = options
        self.chat = chat
        self.api = api
        self.sender = Sender(api, options.send)
        self.state = PlatformState(options.id, "telegram")
        self.me: Me | None = None
        self._offset: int | None = None
        self._answering: set[asyncio.Task[None]] = set()

    # -- the supervisor's side ---------------------------------------------------------------
    async def run(self) -> None:
        me = await self.api.call("getMe")
        if not isinstance(me, dict) or not isinstance(me.get("id"), int):
            raise DomainError("Telegram getMe: no bot in the answer")
        self.me = Me(me["id"], str(me.get("username") or ""))
        self.state.bots = {self.me.username or str(self.me.id): BotState()}
        self.state.set("connected")
        log.info("platform %s: Telegram bot @%s connected", self.options.id, self.me.username)
        while True:
            params: dict[str, object] = {"timeout": self.options.poll_timeout, "allowed_updates": ["message"]}
            if self._offset is not None:
                params["offset"] = self._offset
            try:
                result = await self.api.call("getUpdates", params, limit=self.options.poll_timeout + 15)
            except ApiError as exc:
                if exc.status == 409:  # the supervisor reports it and polls again with backoff
                    raise ApiError(f"{exc.message} — another program polls with this token, or a webhook is "
                                   "set (deleteWebhook)", status=409) from None
                raise
            offset, messages = read_updates(result)
            if offset is not None:
                self._offset = offset
            for message in messages:
                incoming = to_incoming(message, self.options.id, self.me)
                if incoming is not None:
                    self._answer(incoming)

    async def deliver(self, target: Target, reply: Reply) -> None:
        await self.sender.deliver(target, reply)

    async def close(self) -> None:
        for task in list(self._answering):
            task.cancel()
        await asyncio.gather(*self._answering, return_exceptions=True)
        await self.api.close()

    # -- answering ---------------------------------------------------------------------------
    def _answer(self, incoming: Incoming) -> None:
        if len(self._answering) >= MAX_ANSWERING:
            log.warning("platform %s: %d messages in progress; one dropped", self.options.id, MAX_ANSWERING)
            return
        task = asyncio.create_task(self._handle(incoming))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _handle(self, incoming: Incoming) -> None:
        try:
            text = await self.chat.accept(incoming)
            if text is None:
                return
            left_out = None
            if incoming.images:  # only now, for a message answered: where its photo can be downloaded
                urls, left_out = await self._file_urls(incoming.images)
                incoming = dataclasses.replace(incoming, images=urls)
            answer = self.chat.answer(incoming, text) if text or incoming.images else None
            if left_out is not None:  # the answer goes on without the photo, and says so
                answer = _after(f"⚠️ Your image was left out: {left_out}\n", answer)
            quote = incoming.message_id if incoming.chat == "group" else None
            if answer is not None:
                typing = asyncio.create_task(self._typing(incoming.chat_id))
                try:
                    await self.sender.stream(incoming.chat_id, answer, quote)
                finally:
                    typing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await typing
        except DomainError as exc:  # the answer could not be sent; the asker sees nothing, the log says why
            log.warning("platform %s: answering %s failed: %s", self.options.id, incoming.sender_id, exc.message)
        except Exception:
            log.exception("platform %s: answering %s failed", self.options.id, incoming.sender_id)

    async def _file_urls(self, file_ids: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
        """Where each photo is downloaded, and why one could not be had (None: every one could)."""
        urls: list[str] = []
        why: str | None = None
        for file_id in file_ids:
            try:
                file = await self.api.call("getFile", {"file_id": file_id})
            except DomainError as exc:
                log.warning("platform %s: getFile failed: %s", self.options.id, exc.message)
                why = "Telegram would not hand it over"
                continue
            if isinstance(file, dict) and isinstance(file.get("file_path"), str):
                urls.append(self.api.file_url(file["file_path"]))
            else:
                why = "Telegram gave no file for it"
        return tuple(urls), why

    async def _typing(self, chat_id: str) -> None:
        """"typing…" in the chat while the answer is made; a refusal only ends the indicator."""
        while True:
            try:
                await self.api.call("sendChatAction", {"chat_id": chat_id, "action": "typing"})
            except DomainError as exc:
                log.info("platform %s: sendChatAction failed: %s", self.options.id, exc.message)
                return
            await asyncio.sleep(TYPING_EVERY)


async def _after(note: str, answer: AsyncIterator[str | Image] | None) -> AsyncIterator[str | Image]:
    yield note
    if answer is not None:
        async for piece in answer:
            yield piece
