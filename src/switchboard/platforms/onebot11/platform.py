"""One configured OneBot 11 platform: its bots, the frames from their sockets, the answers.

The sockets come from the reverse WebSocket route (the implementation dials in) or from `forward`
(Switchboard dials out); either hands each frame to `feed`. Each message is answered in a task of
its own, so a slow model never holds up the action responses that arrive on the same socket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from switchboard.core.domain.errors import DomainError, UpstreamUnavailable
from switchboard.platforms._shared.chat import PlatformChat
from switchboard.platforms._shared.messages import Incoming, Reply, Target
from switchboard.platforms._shared.supervisor import BotState, PlatformState
from switchboard.platforms.onebot11 import sender
from switchboard.platforms.onebot11.connection import Bot, Calls, Socket
from switchboard.platforms.onebot11.events import (
    ActionResponse,
    FriendRequest,
    MessageEvent,
    MetaEvent,
    parse_frame,
    to_incoming,
)

log = logging.getLogger("switchboard.platforms")

MAX_ANSWERING = 64  # messages being answered at once; more are dropped (a flood must not grow memory)


@dataclass(frozen=True, slots=True)
class OneBotOptions:
    id: str
    url: str | None = None  # forward mode: the implementation's WebSocket
    access_token: str | None = None
    action_timeout: float = 30.0
    accept_friend_requests: bool = False
    send: sender.SendOptions = field(default_factory=sender.SendOptions)


Dial = Callable[["OneBotPlatform"], Awaitable[None]]


class OneBotPlatform:
    """`dial` (forward mode: forward.dial) connects and serves one socket; without it the platform
    waits for implementations to come to the reverse WebSocket route."""

    def __init__(self, options: OneBotOptions, chat: PlatformChat, dial: Dial | None = None) -> None:
        self.options = options
        self._dial = dial
        self.chat = chat
        self.state = PlatformState(options.id, "onebot11")
        self.calls = Calls(options.action_timeout)
        self.bots: dict[str, Bot] = {}
        self._answering: set[asyncio.Task[None]] = set()

    @property
    def reverse(self) -> bool:
        """The implementation dials in (the reverse WebSocket route) rather than being dialled."""
        return self._dial is None

    @property
    def exclusive(self) -> bool:
        """A dialled (forward) socket runs in one worker; reverse sockets land wherever they dial."""
        return self._dial is not None

    # -- sockets -----------------------------------------------------------------------------
    def attach(self, self_id: str, socket: Socket, role: str) -> Bot:
        bot = self.bots.get(self_id)
        if bot is None:
            bot = self.bots[self_id] = Bot(self_id, self.calls)
            log.info("platform %s: QQ bot %s connected (%s)", self.options.id, self_id, role)
        bot.attach(socket, role)
        self._report()
        return bot

    def detach(self, socket: Socket) -> None:
        self.calls.fail(socket)
        for self_id, bot in list(self.bots.items()):
            bot.detach(socket)
            if not bot.sockets:
                del self.bots[self_id]
                log.info("platform %s: QQ bot %s disconnected", self.options.id, self_id)
        self._report()

    def feed(self, text: str | bytes, socket: Socket, role: str = "universal") -> None:
        frame = parse_frame(text)
        if isinstance(frame, ActionResponse):
            self.calls.resolve(frame)
            return
        if frame is None:
            return  # malformed, a notice, a request, an unknown post type: nothing to do
        bot = self.bots.get(frame.self_id) or self.attach(frame.self_id, socket, role)
        if isinstance(frame, MetaEvent):
            if (online := frame.online) is not None:
                bot.set_online(online)
                self._report()
        elif isinstance(frame, MessageEvent):
            if frame.message_type == "group" and frame.group_id:
                bot.heard("group", frame.group_id)
            else:
                bot.heard("private", frame.user_id)
            self._answer(bot, frame)
        elif isinstance(frame, FriendRequest) and self.options.accept_friend_requests:
            self._start(self._accept_friend(bot, frame))

    # -- answering ---------------------------------------------------------------------------
    def _answer(self, bot: Bot, event: MessageEvent) -> None:
        incoming = to_incoming(event, self.options.id, bot.sent)
        if incoming is None or event.user_id == bot.self_id:
            return
        self._start(self._handle(bot, incoming))

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        if len(self._answering) >= MAX_ANSWERING:
            log.warning("platform %s: %d events in progress; one dropped", self.options.id, MAX_ANSWERING)
            work.close()
            return
        task = asyncio.create_task(work)
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _accept_friend(self, bot: Bot, request: FriendRequest) -> None:
        try:
            await bot.call("set_friend_add_request", {"flag": request.flag, "approve": True})
        except DomainError as exc:
            log.warning("platform %s: accepting %s as a friend failed: %s", self.options.id, request.user_id,
                        exc.message)

    async def _handle(self, bot: Bot, incoming: Incoming) -> None:
        try:
            text = await self.chat.accept(incoming)
            if text is None:
                return
            reply = await self.chat.reply(incoming, text)
            await sender.send_reply(bot, incoming, reply, self.options.send)
        except DomainError as exc:  # the answer could not be sent; the asker sees nothing, the log says why
            log.warning("platform %s: answering %s failed: %s", self.options.id, incoming.sender_id, exc.message)
        except Exception:
            log.exception("platform %s: answering %s failed", self.options.id, incoming.sender_id)

    # -- the supervisor's side ---------------------------------------------------------------
    async def run(self) -> None:
        if self._dial is not None:
            await self._dial(self)
            return
        self._report()
        await asyncio.Event().wait()  # reverse: the implementation comes to the route; nothing to dial

    async def deliver(self, target: Target, reply: Reply) -> None:
        """Through a bot that heard from that chat (so is in the group), else the one heard from last."""
        ready = [b for b in self.bots.values() if b.online and b.api is not None]
        if not ready:
            raise UpstreamUnavailable(f"no QQ bot of platform {self.options.id} is connected")
        bot = max(ready, key=lambda b: (b.knows(target.chat, target.chat_id), b.last_heard))
        await sender.deliver(bot, target, reply, self.options.send)

    async def close(self) -> None:
        for task in list(self._answering):
            task.cancel()
        await asyncio.gather(*self._answering, return_exceptions=True)
        # the reverse sockets outlive run(): the route serves them, so they are closed here
        sockets = {id(s): s for bot in self.bots.values() for s in bot.sockets}
        for socket in sockets.values():
            await socket.close()

    def _report(self) -> None:
        self.state.bots = {b.self_id: BotState(b.online, b.since) for b in self.bots.values()}
        if self.bots:
            if self.state.status != "connected":
                self.state.set("connected")
        elif self._dial is None:
            self.state.set("waiting", "waiting for the OneBot implementation to connect to /onebot/v11/ws")
