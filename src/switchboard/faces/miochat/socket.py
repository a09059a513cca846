"""One Mio-Chat WebSocket after login: frames in, replies and pushes out.

Turns of the model (openai/completions, onebot messages) run as tasks of their own, keyed by
request_id, so several run at once and `{"protocol": "openai", "type": "interrupt", "request_id": N}`
(also `stop`/`abort`/`cancel`, or the target in `data.request_id`) stops request N: the engine keeps
the partial answer as `interrupted` and N ends with a `failed` frame. Pushes on `miochat:<user_id>`
(bot replies, proactive messages) become OneBot frames. A socket silent for the heartbeat timeout
is closed; a frame over the size limit or not JSON gets a failure frame and the socket stays open."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from switchboard.core.domain.errors import DomainError, RateLimited
from switchboard.core.services.bundle import Services
from switchboard.core.services.conversations.proactive import push_channel
from switchboard.faces._shared.turn_slots import TurnSlots
from switchboard.faces.miochat.auth import PLATFORM, MioClient
from switchboard.faces.miochat.dispatch import INTERRUPTS, Dispatcher, describe
from switchboard.faces.miochat.envelope import failure, from_domain, success
from switchboard.faces.miochat.options import MioOptions
from switchboard.faces.miochat.schemas import InterruptData, RequestFrame, RequestId
from switchboard.faces.miochat.stream import INTERRUPTED, OpenaiFrames

IDLE_CLOSE = 4000  # the code an idle socket is closed with (no heartbeat in time)


def _protocol(frame: RequestFrame) -> str | None:
    return "openai" if frame.protocol == "openai" else None


def request_id_of(raw: Any) -> RequestId:
    value = raw.get("request_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


class MioSocket:
    def __init__(self, websocket: WebSocket, client: MioClient, dispatcher: Dispatcher, options: MioOptions,
                 slots: TurnSlots) -> None:
        self.websocket = websocket
        self.slots = slots
        self.client = client
        self.dispatcher = dispatcher
        self.options = options
        self.running: dict[str, asyncio.Task[Any]] = {}
        self._untracked = itertools.count(1)
        self._lock = asyncio.Lock()
        self.subscribed = asyncio.Event()  # pushes reach this socket from now on

    async def send(self, frame: dict[str, Any]) -> None:
        """Writes one frame; a socket already gone swallows it (the turn still finishes and is stored)."""
        if self.websocket.application_state is not WebSocketState.CONNECTED:
            return
        text = json.dumps(frame, ensure_ascii=False)
        async with self._lock:
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await self.websocket.send_text(text)

    async def serve(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), self.options.heartbeat_timeout)
            except TimeoutError:
                await self.websocket.close(IDLE_CLOSE, "no heartbeat")
                return
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None and message.get("bytes") is not None:
                raw = message["bytes"].decode("utf-8", "replace")
            await self.receive(raw or "")

    async def receive(self, raw: str) -> None:
        if len(raw.encode()) > self.options.max_frame_bytes:
            await self.send(failure(None, f"frame larger than {self.options.max_frame_bytes} bytes"))
            return
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self.send(failure(None, "frame is not JSON"))
            return
        try:
            frame = RequestFrame.model_validate(parsed)
        except ValidationError as exc:
            await self.send(failure(request_id_of(parsed), describe(exc)))
            return
        if frame.type in INTERRUPTS:
            await self.interrupt(frame)
            return
        try:
            handler, long_running = self.dispatcher.resolve(frame)
        except (DomainError, ValidationError) as exc:
            error = exc if isinstance(exc, DomainError) else DomainError(describe(exc))
            await self.send(from_domain(frame.request_id, error))
            return
        if not long_running:
            await self.dispatcher.run(handler, frame, self.client, self.send)
            return
        key = str(frame.request_id) if frame.request_id is not None else f"untracked-{next(self._untracked)}"
        if key in self.running:
            await self.send(failure(frame.request_id, f"request {frame.request_id} is already running"))
            return
        user_id = self.client.principal.user_id
        if not await self._admit(frame, user_id):
            return
        task = asyncio.create_task(self.dispatcher.run(handler, frame, self.client, self.send))
        self.running[key] = task

        def finished(_: asyncio.Task[Any]) -> None:
            self.slots.release(user_id)
            if self.running.get(key) is task:
                del self.running[key]

        task.add_done_callback(finished)

    async def _admit(self, frame: RequestFrame, user_id: int) -> bool:
        """Takes a slot for one more answer, or refuses the frame when the socket or the user has
        as many running as allowed (each is an upstream call: a client must not start a hundred)."""
        limit = self.options.turns_per_socket
        try:
            if len(self.running) >= limit:
                raise RateLimited(f"too many answers running on this socket (at most {limit})")
            self.slots.acquire(user_id)
        except DomainError as exc:
            await self.send(from_domain(frame.request_id, exc, protocol=_protocol(frame)))
            return False
        return True

    async def interrupt(self, frame: RequestFrame) -> None:
        try:
            data = InterruptData.model_validate(frame.data if isinstance(frame.data, dict) else {})
        except ValidationError as exc:
            await self.send(failure(frame.request_id, describe(exc)))
            return
        target = data.request_id if data.request_id is not None else frame.request_id
        task = self.running.pop(str(target), None) if target is not None else None
        if task is None:
            await self.send(failure(frame.request_id, f"no running request {target}", protocol="openai"))
            return
        await self.dispatcher.openai.stop(self.client, target)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task  # the engine stores the partial answer as interrupted before this returns
        await self.send(OpenaiFrames(target).failed(INTERRUPTED))
        if str(frame.request_id) != str(target):
            await self.send(success(frame.request_id, {"request_id": target}, protocol="openai"))

    async def forward_pushes(self, services: Services) -> None:
        channel = push_channel(PLATFORM, self.client.principal.user_id)
        async with services.push.subscribe(channel) as pushes:
            self.subscribed.set()
            async for payload in pushes:
                with contextlib.suppress(Exception):  # one bad payload must not stop the others
                    await self.send(await self.dispatcher.onebot.pushed(self.client, payload))

    async def stop_all(self) -> None:
        """The client left: stop its running turns (their partial answers are kept as interrupted)."""
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
