"""The bot accounts an implementation serves and the sockets to them: actions go out with an `echo`
and wait for the response carrying it back, up to a timeout.

A bot (one QQ account, `self_id`) has a socket for actions — the Universal one, or the `/api` one
when the implementation splits the roles — and is online while its last lifecycle or heartbeat
event said so."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from switchboard.core.domain.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from switchboard.platforms.onebot11.events import ActionResponse

OWN_MESSAGES_KEPT = 2000  # ids of the bot's recent messages, to know a reply to the bot when one comes
CHATS_KEPT = 5000  # chats each bot heard from most recently, to pick the bot a proactive message goes through

OnOk = Callable[[Any], None]  # told an action's data as soon as its answer is read


class Socket(Protocol):
    async def send_text(self, text: str) -> None: ...

    async def close(self) -> None:
        """Ends the connection (the platform was disabled or deleted)."""
        ...


class ActionFailed(UpstreamError):
    """The implementation answered an action with a failure (a muted bot, an unknown group ...)."""


class Calls:
    """Actions in flight on every socket of one platform, by `echo`."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[Socket, asyncio.Future[ActionResponse], OnOk | None]] = {}

    async def call(self, socket: Socket, action: str, params: dict[str, Any], on_ok: OnOk | None = None) -> Any:
        """The action's data. `on_ok` gets it as soon as the answer is read, before the socket's
        next frame is (the caller resumes only a few loop turns later)."""
        echo = f"sb-{next(self._ids)}"
        future: asyncio.Future[ActionResponse] = asyncio.get_running_loop().create_future()
        self._pending[echo] = (socket, future, on_ok)
        try:
            await socket.send_text(orjson.dumps({"action": action, "params": params, "echo": echo}).decode())
            response = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            raise UpstreamTimeout(f"the QQ bot did not answer {action} within {self.timeout:g} s") from None
        finally:
            self._pending.pop(echo, None)
        if not response.ok:
            why = response.wording or response.message or "no reason given"
            raise ActionFailed(f"the QQ bot refused {action} (retcode {response.retcode}: {why})", status=502)
        return response.data

    def resolve(self, response: ActionResponse) -> None:
        _, future, on_ok = self._pending.get(response.echo, (None, None, None))
        if future is not None and not future.done():
            if on_ok is not None and response.ok:
                on_ok(response.data)
            future.set_result(response)

    def fail(self, socket: Socket) -> None:
        """The calls sent on a socket that went away fail now instead of at their timeout."""
        for sent_on, future, _ in self._pending.values():
            if sent_on is socket and not future.done():
                future.set_exception(UpstreamUnavailable("the QQ bot disconnected before it answered"))


class Bot:
    def __init__(self, self_id: str, calls: Calls) -> None:
        self.self_id = self_id
        self.online = True
        self.since = datetime.now(UTC)
        self.api: Socket | None = None  # where actions go
        self.sockets: list[Socket] = []  # every socket of this bot (Universal, /api, /event)
        self._calls = calls
        self._own: deque[str] = deque(maxlen=OWN_MESSAGES_KEPT)
        self._send_lock = asyncio.Lock()
        self._chats: OrderedDict[tuple[str, str], None] = OrderedDict()  # (kind, id), oldest first
        self.last_heard = time.monotonic()  # when the last message reached this bot (or it connected)

    async def call(self, action: str, params: dict[str, Any], on_ok: OnOk | None = None) -> Any:
        if self.api is None:
            raise UpstreamUnavailable(f"QQ bot {self.self_id} has no API connection")
        return await self._calls.call(self.api, action, params, on_ok)

    async def send(self, action: str, params: dict[str, Any]) -> str | None:
        """A send_* action, one at a time per bot (so a split answer arrives in order); its message id
        is remembered so a reply to it is a reply to the bot — as the answer is read, since a reply to
        it may be the very next frame on the socket."""
        async with self._send_lock:
            return _message_id(await self.call(action, params, on_ok=self._remember))

    def _remember(self, data: Any) -> None:
        if (message_id := _message_id(data)) is not None:
            self._own.append(message_id)

    def sent(self, message_id: str) -> bool:
        return message_id in self._own

    def heard(self, chat: str, chat_id: str) -> None:
        """A message in this chat reached this bot: the account is in that group (or knows that user)."""
        self._chats[(chat, chat_id)] = None
        self._chats.move_to_end((chat, chat_id))
        if len(self._chats) > CHATS_KEPT:
            self._chats.popitem(last=False)
        self.last_heard = time.monotonic()

    def knows(self, chat: str, chat_id: str) -> bool:
        return (chat, chat_id) in self._chats

    def set_online(self, online: bool) -> None:
        if online != self.online:
            self.online, self.since = online, datetime.now(UTC)

    def attach(self, socket: Socket, role: str) -> None:
        if socket not in self.sockets:
            self.sockets.append(socket)
        if role in ("universal", "api"):
            self.api = socket

    def detach(self, socket: Socket) -> None:
        with contextlib.suppress(ValueError):
            self.sockets.remove(socket)
        if self.api is socket:
            self.api = None


def _message_id(data: Any) -> str | None:
    return str(data["message_id"]) if isinstance(data, dict) and "message_id" in data else None
