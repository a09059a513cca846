"""Resumable answers: a client that lost its connection mid-answer comes back and gets what it
missed, then the live tail — on any worker — without the model being asked (or paid) twice.

    batches = answers.run(turn, keep_running=...)         # lists of (number, event), numbered 1, 2, 3 …
    batches = await answers.resume(principal, message_id, after=n)  # the events after n, then the tail
    events = unnumbered(batches)                          # for a face that takes one event at a time

A batch is every event ready when the reader woke (often one upstream read's): one `send` for all.

`run` takes the turn's events in a task of its own: each is passed to the client that started the
answer and kept in the answer's log (core.ports.streams), written in batches by another task so
the token loop never waits on Redis. When that client goes away, the answer keeps running: to its
end when `keep_running` (cancel_on_disconnect is off), otherwise for a grace period, after which it
stops unless some client came back for it. The log is keyed by the answer's first message id, the
one the client learnt from `Started`. Once the log has expired, a resume gets the stored message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from switchboard.core.domain.conversations import Message, MessageStatus, TokenUsage
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.event_codec import is_terminal
from switchboard.core.domain.events import ChatEvent, Done, Failed, Started
from switchboard.core.domain.users import Principal
from switchboard.core.ports.push import PushBus, keep_listening
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.streams import AnswerLog, LogEntry
from switchboard.core.services.chat.turn import Turn
from switchboard.core.services.conversations.history import owned_conversation

log = logging.getLogger(__name__)

Numbered = tuple[int, ChatEvent]
Batch = list[Numbered]  # events in order, numbers consecutive; never empty
NO_LOG_POLL_SECONDS = 0.5  # a resume of a running answer without a log looks for it (and its end) this often
WRITE_EVERY_SECONDS = 0.02  # how long the events of a running answer may wait to reach the log
SUBSCRIBE_TIMEOUT_SECONDS = 10.0  # Redis away at start-up: serve anyway, the listener keeps trying
STOP_CHANNEL = "answers:stop"  # push bus channel: a Stop asked of the worker that runs the answer
STOPPED = "the answer stopped before its end (the client went away, or the server stopped)"


@dataclass(frozen=True, slots=True)
class ResumePolicy:
    grace_seconds: float = 10.0  # how long an answer outlives its client when cancel_on_disconnect is on
    quiet_seconds: float = 5.0  # a resume waiting this long on the log looks at the stored message


class AnswerStreams:
    def __init__(self, answer_log: AnswerLog, uow: UnitOfWork, push: PushBus, policy: ResumePolicy) -> None:
        self._log = answer_log
        self._uow = uow
        self._push = push
        self.policy = policy
        self._tasks: set[asyncio.Task[None]] = set()  # held so they are not garbage-collected mid-answer
        self._running: dict[int, _LiveAnswer] = {}  # by first message id: the answers this worker runs
        self._stops: asyncio.Task[None] | None = None

    def run(self, turn: Turn, *, keep_running: bool) -> AsyncIterator[Batch]:
        message_id = turn.assistant.id
        answer = _LiveAnswer(self._log, message_id, answer_key(turn.conversation.id, message_id),
                             self.policy.grace_seconds, keep_running)
        task = asyncio.create_task(answer.produce(turn.batches()))
        answer.producer = task
        self._keep(task)
        self._running[message_id] = answer
        task.add_done_callback(lambda _: self._running.pop(message_id, None))
        return answer.read()

    async def resume(self, principal: Principal, message_id: int, after: int) -> AsyncIterator[Batch]:
        """Checks before anything streams: NotFound for an unknown message or another user's."""
        message = await self._owned_answer(principal, message_id)
        key = answer_key(message.conversation_id, message_id)
        first = await self._log.read(key, after, 0)
        if first is not None:
            await self._log.mark_resumed(key)
            if not first and await self._ended_at(key, after):
                return _nothing()  # the client saw the end already, not the stored message again
        return self._replay(message, key, after, first)

    async def stop(self, principal: Principal, message_id: int) -> None:
        """The person's Stop: the answer ends now (stored as interrupted), on whichever worker runs it;
        a closed connection alone only starts the grace period. NotFound as for `resume`."""
        await self._owned_answer(principal, message_id)
        running = self._running.get(message_id)
        if running is not None:
            running.stop()
        else:
            await self._push.publish(STOP_CHANNEL, {"message_id": message_id})

    async def start(self) -> None:
        """Listens for Stops asked of other workers (with one worker: of this one, a no-op); the
        push bus lost is subscribed to again. Returns once subscribed, or after a while without."""
        ready = asyncio.Event()
        self._stops = asyncio.create_task(
            keep_listening(self._push, STOP_CHANNEL, self._on_stop, ready, "Stops asked of other workers"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), SUBSCRIBE_TIMEOUT_SECONDS)

    async def _on_stop(self, payload: dict[str, Any]) -> None:
        running = self._running.get(int(payload.get("message_id", 0)))
        if running is not None:
            running.stop()

    async def _owned_answer(self, principal: Principal, message_id: int) -> Message:
        async with self._uow.read() as tx:
            message = await tx.messages.get(message_id)
            if message is None or message.is_deleted or message.role != "assistant":
                raise NotFound("message not found")
            await owned_conversation(tx, principal, message.conversation_id)
        return message

    async def _ended_at(self, key: str, number: int) -> bool:
        last = await self._log.read(key, number - 1, 0) if number > 0 else None
        return is_terminal(last[-1][1]) if last else False

    async def close(self) -> None:
        """Lets the answers running here end (their clients may come back), then closes the log."""
        if self._stops is not None:
            self._stops.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._stops
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._log.close()

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replay(
        self, message: Message, key: str, after: int, entries: list[LogEntry] | None
    ) -> AsyncIterator[Batch]:
        while True:
            while entries is not None:
                if entries:
                    after = entries[-1][0]
                    ends = next((i for i, (_, event) in enumerate(entries) if is_terminal(event)), None)
                    if ends is not None:
                        yield entries[:ends + 1]
                        return
                    yield entries
                entries = await self._log.read(key, after, self.policy.quiet_seconds)
                if entries == [] and (await self._final(message)).status is not MessageStatus.STREAMING:
                    # quiet, and stored as ended: the worker that ran it is gone; the log has all it will get
                    entries = await self._log.read(key, after, 0) or None
            final = await self._final(message)
            if final.status is not MessageStatus.STREAMING:
                break
            # no log while the answer runs: its first events are on their way, or they are kept in
            # another worker's memory (no Redis), or that worker died: look again shortly
            await asyncio.sleep(NO_LOG_POLL_SECONDS)
            entries = await self._log.read(key, after, 0)
        # the log is gone (expired) or never came: the stored message
        yield [(after + offset, event) for offset, event in enumerate(_stored_events(message, final), start=1)]

    async def _final(self, first: Message) -> Message:
        """The answer as stored: its last assistant message (after tool calls, a later one)."""
        async with self._uow.read() as tx:
            recent = await tx.messages.list(first.conversation_id, 50)
        answers = [m for m in recent if m.role == "assistant" and m.id >= first.id]
        return answers[-1] if answers else first


def answer_key(conversation_id: str, message_id: int) -> str:
    """The log's name: message ids alone repeat across databases (a reset one, another deployment,
    each test's) that may share a Redis; conversation ids are random."""
    return f"{conversation_id}:{message_id}"


async def _nothing() -> AsyncIterator[Batch]:
    return
    yield  # an async generator that ends at once


async def unnumbered(batches: AsyncIterator[Batch]) -> AsyncIterator[ChatEvent]:
    """The events one at a time, for a face that renders them so; closing it closes `batches`."""
    try:
        async for batch in batches:
            for _, event in batch:
                yield event
    finally:
        await batches.aclose()  # type: ignore[attr-defined]


def _stored_events(first: Message, final: Message) -> list[ChatEvent]:
    started = Started(first.conversation_id, first.id, None, final.model or first.model or "")
    if final.status is MessageStatus.COMPLETED:
        return [started, Done(final.id, final.text, final.reasoning, final.usage or TokenUsage())]
    code = "interrupted" if final.status is MessageStatus.INTERRUPTED else "failed"
    return [started, Failed(code, final.error or STOPPED, final.id)]


class _LiveAnswer:
    """One running answer: a producer task, the reader that started it, and the log writer."""

    def __init__(self, answer_log: AnswerLog, message_id: int, key: str, grace_seconds: float,
                 keep_running: bool) -> None:
        self._log = answer_log
        self._message_id = message_id
        self._key = key
        self._grace = grace_seconds
        self._keep_running = keep_running
        # for the client that started it: a list the reader takes whole, and an event (an asyncio.Queue cost more)
        self._ready: Batch = []
        self._arrived = asyncio.Event()
        self._pending: list[LogEntry] = []
        self._wake = asyncio.Event()
        self._attached = True
        self._ended = False
        self.producer: asyncio.Task[None] | None = None
        self._stopper: asyncio.Task[None] | None = None

    async def produce(self, batches: AsyncIterator[list[ChatEvent]]) -> None:
        writer = asyncio.create_task(self._write())
        number, last = 0, None
        try:
            async for events in batches:
                self._pass_on(list(enumerate(events, number + 1)))  # numbered in C, not a Python step per token
                number += len(events)
                last = events[-1]
        finally:
            # the last event tells whether it ended (checked once, not per token); stopped: a client
            # coming back must learn that nothing more will come
            if not isinstance(last, Done | Failed):
                self._pass_on([(number + 1, Failed("interrupted", STOPPED, self._message_id))])
            self._ended = True
            self._arrived.set()
            self._wake.set()
            await writer

    def _pass_on(self, entries: Batch) -> None:
        if self._attached:
            self._ready += entries
            self._arrived.set()
        self._pending += entries
        self._wake.set()

    async def _write(self) -> None:
        while True:
            await self._wake.wait()  # a quiet answer: until its next event
            busy = True
            while busy:
                if not self._ended:
                    await asyncio.sleep(WRITE_EVERY_SECONDS)  # one write per batch of tokens, not per token
                self._wake.clear()
                ended = self._ended  # read before taking the batch: an ended answer's batch is its last
                batch, self._pending = self._pending, []
                if batch:
                    try:
                        await self._log.append(self._key, batch, ended=ended)
                    except Exception:  # the answer matters more than its resumability
                        log.warning("could not keep events of answer %s for resuming", self._key, exc_info=True)
                if ended:
                    return
                busy = bool(batch)  # tokens still coming: keep to the period, not wake at each next one

    async def read(self) -> AsyncIterator[Batch]:
        """Every event ready when it wakes, as one batch; ends after the last one."""
        try:
            while self._ready or not self._ended:
                if self._ready:
                    batch, self._ready = self._ready, []
                    yield batch
                else:
                    self._arrived.clear()
                    await self._arrived.wait()
        finally:
            if not self._ended:
                self._detach()

    def stop(self) -> None:
        self._keep_running = False
        if self.producer is not None:
            self.producer.cancel()

    def _detach(self) -> None:
        """The client went away: stop queueing for it; stop the answer now, later, or never."""
        self._attached = False
        if self._keep_running or self.producer is None:
            return
        if self._grace <= 0:
            self.producer.cancel()
            return
        # held here, and so by the producer task, which the service holds
        self._stopper = asyncio.get_running_loop().create_task(self._stop_unless_resumed(self.producer))

    async def _stop_unless_resumed(self, producer: asyncio.Task[None]) -> None:
        await asyncio.sleep(self._grace)
        resumed = False
        with contextlib.suppress(Exception):  # Redis gone: stop, as without resuming
            resumed = await self._log.was_resumed(self._key)
        if not resumed:
            producer.cancel()
