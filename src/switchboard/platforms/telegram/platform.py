"""One configured Telegram bot: it learns who it is (`getMe`), long-polls `getUpdates` from the
last offset, and answers each message in a task of its own through the shared PlatformChat, the
answer streamed into the chat (sender). The offset outlives a lost connection, so nothing is
answered twice when the API comes back; the supervisor runs `run` again, with backoff, after any
failure."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass, field

from switchboard.core.domain.errors import DomainError
from switchboard.platforms._shared.chat import PlatformChat
from switchboard.platforms._shared.messages import Incoming, Reply, Target
from switchboard.platforms._shared.supervisor import BotState, PlatformState
from switchboard.platforms.telegram.connection import BotApi
from switchboard.platforms.telegram.events import Me, read_updates, to_incoming
from switchboard.platforms.telegram.sender import Sender, SendOptions

log = logging.getLogger("switchboard.platforms")

MAX_ANSWERING = 64  # messages being answered at once; more are dropped (a flood must not grow memory)


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    id: str
    poll_timeout: int = 30  # seconds Telegram holds an empty getUpdates open
    send: SendOptions = field(default_factory=SendOptions)


class TelegramBot:
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
            result = await self.api.call("getUpdates", params, limit=self.options.poll_timeout + 15)
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
            if incoming.images:  # only now, for a message answered: where its photo can be downloaded
                incoming = dataclasses.replace(incoming, images=await self._file_urls(incoming.images))
            quote = incoming.message_id if incoming.chat == "group" else None
            await self.sender.stream(incoming.chat_id, self.chat.answer(incoming, text), quote)
        except DomainError as exc:  # the answer could not be sent; the asker sees nothing, the log says why
            log.warning("platform %s: answering %s failed: %s", self.options.id, incoming.sender_id, exc.message)
        except Exception:
            log.exception("platform %s: answering %s failed", self.options.id, incoming.sender_id)

    async def _file_urls(self, file_ids: tuple[str, ...]) -> tuple[str, ...]:
        urls: list[str] = []
        for file_id in file_ids:
            file = await self.api.call("getFile", {"file_id": file_id})
            if isinstance(file, dict) and isinstance(file.get("file_path"), str):
                urls.append(self.api.file_url(file["file_path"]))
        return tuple(urls)
