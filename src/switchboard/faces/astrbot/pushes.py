"""Proactive messages (`im/message` to `webchat:...:<session>`) into an open SSE chat stream of
that session: AstrBot delivers them to whatever client is attached to the session, and a client
of `/api/v1/chat` is attached for as long as its stream is open (the WebSocket forwards them in
routes_ws). The push bus channel is the one ProactiveService publishes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from switchboard.core.ports.push import PushBus
from switchboard.core.services.conversations.proactive import push_channel
from switchboard.faces.astrbot.sessions import PLATFORM
from switchboard.faces.astrbot.stream import Event, pushed_events

_END = object()


async def with_pushes(push: PushBus, user_id: int, session_id: str, events: AsyncIterator[Event]
                      ) -> AsyncIterator[Event]:
    """The turn's events, with the session's proactive messages put in as they arrive.

    The turn is read by a task of its own so a push need not wait for the model's next word;
    closing this stream (the client left) cancels that task, which interrupts the turn exactly as
    closing the turn's own events would."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def read_turn() -> None:
        try:
            async for event in events:
                queue.put_nowait(event)
        finally:
            queue.put_nowait(_END)

    async with push.subscribe(push_channel(PLATFORM, user_id)) as pushes:

        async def read_pushes() -> None:
            async for payload in pushes:
                if str(payload.get("session_id")) == session_id:
                    for frame in pushed_events(payload):
                        queue.put_nowait(frame)

        turn, pushed = asyncio.create_task(read_turn()), asyncio.create_task(read_pushes())
        try:
            while (item := await queue.get()) is not _END:
                yield item
            await turn  # the turn's own exception, if it raised one
        finally:
            for task in (turn, pushed):
                task.cancel()
            await asyncio.gather(turn, pushed, return_exceptions=True)
            await events.aclose()  # type: ignore[attr-defined]
