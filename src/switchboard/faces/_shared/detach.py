"""Keep a turn running after its client left (when `cancel_on_disconnect` is off): the events are
produced by a task of their own and read through a queue, so cancelling the reader does not
cancel the producer; the answer is then stored as `completed`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


class Detacher:
    """Owns the background producers so they are not garbage-collected mid-turn."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def detach(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        queue: asyncio.Queue[object] = asyncio.Queue()

        async def produce() -> None:
            try:
                async for event in events:
                    queue.put_nowait(event)
            finally:
                queue.put_nowait(_END)

        task = asyncio.create_task(produce())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return self._read(queue, task)

    @staticmethod
    async def _read(queue: asyncio.Queue[object], task: asyncio.Task[None]) -> AsyncIterator[T]:
        while (item := await queue.get()) is not _END:
            yield item  # type: ignore[misc]
        await task  # surface the producer's exception, if any

    async def wait_all(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
