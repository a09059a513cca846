"""IM bots across workers: a proactive message (AstrBot's im/message, Mio-Chat's onebot frames) may
reach any worker, but only one holds the bot's connection (the lease of a Telegram poll or a forward
OneBot socket; a reverse OneBot socket lands where the implementation dialled). Over the push bus:

- every worker announces the bots connected in it (`im:bots`, on change and every `announce_every`
  seconds), so each can list the real bots of all (GET /api/v1/im/bots) and knows whom to ask;
- a message for a bot connected elsewhere goes as a request to that worker (`im:worker:<id>`),
  which sends it and replies — done, or the platform's refusal — under the request's id; no reply
  within `reply_timeout` is an UpstreamTimeout naming the platform.

An announcement older than three periods is forgotten (its worker died). A request nobody received
(Redis counts the subscribers) tries the next worker that announced the bot; when none is left, the
caller's worker sends it itself if it can (a Telegram send needs no poll) or says no bot is connected."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from switchboard.core.domain.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from switchboard.core.domain.platforms import ImBot
from switchboard.core.ports.push import PushBus, keep_listening
from switchboard.platforms._shared.messages import Image, Reply, Target

log = logging.getLogger("switchboard.platforms")

BOTS_CHANNEL = "im:bots"
INBOX = "im:worker:"  # + worker id: requests to that worker and replies to its requests
SUBSCRIBE_TIMEOUT_SECONDS = 10.0
MAX_SERVING = 64  # other workers' requests being sent at once; more are refused (a flood must not grow memory)

DeliverHere = Callable[[str, Target, Reply], Awaitable[None]]
_ERRORS: dict[str, type[DomainError]] = {c.code: c for c in (InvalidInput, NotFound, UpstreamError,
                                                              UpstreamTimeout, UpstreamUnavailable)}


@dataclass(slots=True)
class Announced:
    bot: ImBot
    worker: str
    heard: float  # monotonic time this worker heard it


class BotRouting:
    def __init__(self, bus: PushBus, worker_id: str, local_bots: Callable[[], list[ImBot]],
                 deliver_here: DeliverHere, *, announce_every: float = 5.0, reply_timeout: float = 60.0) -> None:
        self.worker = worker_id
        self.announce_every = announce_every
        self.reply_timeout = reply_timeout
        self._bus = bus
        self._local_bots = local_bots
        self._deliver_here = deliver_here
        self._announced: dict[tuple[str, str], Announced] = {}  # (worker, platform id) -> its running bot
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}  # request id -> its reply
        self._ids = itertools.count(1)
        self._serving: set[asyncio.Task[Any]] = set()  # requests being served, replies being sent
        self._tasks: list[asyncio.Task[None]] = []

    # -- what the directory asks -------------------------------------------------------------
    def elsewhere(self, platform_id: str) -> list[Announced]:
        """The other workers running a connected bot of this platform, the most recently heard first."""
        fresh = time.monotonic() - 3 * self.announce_every
        found = [a for (worker, pid), a in self._announced.items()
                 if pid == platform_id and worker != self.worker and a.heard >= fresh]
        return sorted(found, key=lambda a: a.heard, reverse=True)

    async def deliver_elsewhere(self, platform_id: str, target: Target, reply: Reply) -> bool:
        """Sent by a worker where the bot is connected (True), or nobody such is listening (False:
        they all went away since they announced it). Their refusal is raised here."""
        request = {"kind": "request", "platform_id": platform_id, "chat": target.chat, "chat_id": target.chat_id,
                   "text": reply.text, "images": [{"data": base64.b64encode(i.data).decode(), "mime": i.mime}
                                                  for i in reply.images]}
        for holder in self.elsewhere(platform_id):
            request_id = f"{self.worker}-{next(self._ids)}"
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiting[request_id] = future
            try:
                received = await self._bus.publish(INBOX + holder.worker,
                                                   {**request, "id": request_id, "reply_to": self.worker})
                if not received:  # that worker is gone (its announcement not expired yet): the next one
                    self._announced.pop((holder.worker, platform_id), None)
                    continue
                answer = await asyncio.wait_for(future, self.reply_timeout)
            except TimeoutError:
                raise UpstreamTimeout(f"the worker running platform {platform_id} did not answer within "
                                      f"{self.reply_timeout:g} s") from None
            except Exception as exc:  # Redis away: the caller hears it as the bot being unreachable
                raise UpstreamUnavailable(f"the worker running platform {platform_id} cannot be reached: "
                                          f"{type(exc).__name__}: {exc}") from None
            finally:
                self._waiting.pop(request_id, None)
            if answer.get("ok"):
                return True
            raise _error(answer.get("error"))
        return False

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Returns once subscribed (or after a while when Redis is away: the listeners keep trying)."""
        inbox, bots = asyncio.Event(), asyncio.Event()
        self._tasks = [asyncio.create_task(keep_listening(self._bus, INBOX + self.worker, self._on_inbox, inbox,
                                                          "IM routing")),
                       asyncio.create_task(keep_listening(self._bus, BOTS_CHANNEL, self._on_announcement, bots,
                                                          "IM routing")),
                       asyncio.create_task(self._announce())]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_SECONDS):
                await inbox.wait()
                await bots.wait()

    async def close(self) -> None:
        for task in [*self._tasks, *self._serving]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._serving, return_exceptions=True)
        with contextlib.suppress(Exception):  # the others forget our bots now rather than at expiry
            async with asyncio.timeout(2.0):
                await self._bus.publish(BOTS_CHANNEL, {"worker": self.worker, "bots": []})

    # -- the channels ------------------------------------------------------------------------
    async def _on_announcement(self, message: dict[str, Any]) -> None:
        worker = str(message.get("worker"))
        if worker == self.worker:
            return
        for key in [k for k in self._announced if k[0] == worker]:
            del self._announced[key]
        now = time.monotonic()
        for fields in message.get("bots") or ():
            with contextlib.suppress(TypeError, KeyError):
                bot = ImBot(**fields)
                self._announced[(worker, bot.platform_id)] = Announced(bot, worker, now)

    async def _on_inbox(self, message: dict[str, Any]) -> None:
        if message.get("kind") == "reply":
            future = self._waiting.get(str(message.get("id")))
            if future is not None and not future.done():
                future.set_result(message)
        elif message.get("kind") == "request":
            if len(self._serving) >= MAX_SERVING:
                self._reply(message, {"code": UpstreamUnavailable.code, "message": "the worker is too busy"})
                return
            task = asyncio.create_task(self._serve(message))
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)

    async def _serve(self, request: dict[str, Any]) -> None:
        try:
            target = Target(request["chat"], str(request["chat_id"]))
            reply = Reply(str(request.get("text") or ""), [Image(base64.b64decode(i["data"]), str(i["mime"]))
                                                             for i in request.get("images") or ()])
            await self._deliver_here(str(request["platform_id"]), target, reply)
        except DomainError as exc:
            self._reply(request, {"code": exc.code, "message": exc.message, "status": getattr(exc, "status", None)})
        except Exception as exc:  # a malformed request or a bug: the asker hears of it rather than waiting
            log.exception("a proactive message from worker %s failed here", request.get("reply_to"))
            self._reply(request, {"code": UpstreamError.code, "message": f"{type(exc).__name__} on the worker"})
        else:
            self._reply(request, None)

    def _reply(self, request: dict[str, Any], error: dict[str, Any] | None) -> None:
        answer = {"kind": "reply", "id": request.get("id"), "ok": error is None, "error": error}
        task = asyncio.create_task(self._bus.publish(INBOX + str(request.get("reply_to")), answer))
        self._serving.add(task)  # kept referenced until sent
        task.add_done_callback(self._serving.discard)

    async def _announce(self) -> None:
        """Our connected bots, at once when they change, and every `announce_every` seconds anyway."""
        last: list[dict[str, Any]] | None = None
        sent_at = 0.0
        while True:
            bots = [{"platform_id": b.platform_id, "type": b.type, "status": b.status, "detail": b.detail,
                     "accounts": b.accounts} for b in self._local_bots() if b.running]
            if bots != last or time.monotonic() - sent_at >= self.announce_every:
                try:
                    await self._bus.publish(BOTS_CHANNEL, {"worker": self.worker, "bots": bots})
                    last, sent_at = bots, time.monotonic()
                except Exception as exc:
                    log.warning("this worker's IM bots could not be announced: %s", exc)
            await asyncio.sleep(min(0.5, self.announce_every))


def _error(error: Any) -> DomainError:
    error = error if isinstance(error, dict) else {}
    kind = _ERRORS.get(str(error.get("code")), UpstreamError)
    message = str(error.get("message") or "the worker running the bot failed to send it")
    if issubclass(kind, UpstreamError):
        status = error.get("status")
        return kind(message, status=status if isinstance(status, int) else None)
    return kind(message)
