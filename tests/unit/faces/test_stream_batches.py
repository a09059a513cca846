"""A streamed answer goes out in batches: the events ready when the reader wakes are one batch,
written with one ASGI `send`, and the bytes on the wire are those of the events sent one by one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

from starlette.types import Message

from switchboard.adapters.push.answer_memory import InMemoryAnswerLog
from switchboard.core.domain.conversations import TokenUsage
from switchboard.core.domain.events import ChatEvent, Done, Started, TextDelta
from switchboard.core.services.chat.replay import AnswerStreams, Batch, ResumePolicy, unnumbered
from switchboard.core.services.chat.turn import Turn
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces.native.stream import native_sse

EVENTS: list[ChatEvent] = [
    Started("c1", 7, 6, "m"), TextDelta("Hel"), TextDelta("lo \"there\"\n"),
    Done(7, "Hello \"there\"\n", "", TokenUsage(prompt_tokens=3, completion_tokens=2)),
]


async def batches_of(batches: list[Batch]) -> AsyncIterator[Batch]:
    for batch in batches:
        yield batch


async def body_messages(batches: list[Batch]) -> list[Message]:
    """The body messages an EventStream of these batches sends (a client that never hangs up)."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        await asyncio.Event().wait()  # no disconnect: the watcher is cancelled at the end
        raise AssertionError("unreachable")

    await EventStream(native_sse(batches_of(batches)))({"type": "http"}, receive, send)
    assert sent[0]["type"] == "http.response.start"
    return sent[1:]


async def test_the_events_of_one_batch_go_out_in_one_send_with_the_one_by_one_bytes() -> None:
    numbered = list(enumerate(EVENTS, start=1))

    batched = await body_messages([numbered[:3], numbered[3:]])
    one_by_one = await body_messages([[pair] for pair in numbered])

    assert [m["more_body"] for m in batched] == [True, True, False]
    assert batched[0]["body"].count(b"\n\n") == 3  # start and both texts, in one message
    assert b"".join(m["body"] for m in batched) == b"".join(m["body"] for m in one_by_one)
    assert len(one_by_one) == 5
    assert batched[0]["body"].startswith(b"id: 1\nevent: start\n")
    assert b"id: 2\nevent: text\ndata: {\"delta\":\"Hel\",\"message_id\":7}\n\n" in batched[0]["body"]


class _Gate:
    def __init__(self) -> None:
        self.opened = asyncio.Event()

    async def batches(self) -> AsyncIterator[list[ChatEvent]]:
        yield EVENTS[:1]
        yield EVENTS[1:3]  # ready together with the first, as a turn's start and its first read can be
        await self.opened.wait()
        yield EVENTS[3:]


async def test_a_running_answer_gives_every_ready_event_in_one_batch_then_ends() -> None:
    gate = _Gate()
    turn = cast(Turn, SimpleNamespace(assistant=SimpleNamespace(id=7), conversation=SimpleNamespace(id="c1"),
                                      batches=gate.batches))
    answers = AnswerStreams(InMemoryAnswerLog(60, 1000, 60), cast(Any, None), cast(Any, None), ResumePolicy())

    batches = answers.run(turn, keep_running=True)
    first = await anext(batches)
    gate.opened.set()
    rest = [batch async for batch in batches]

    assert first == list(enumerate(EVENTS[:3], start=1))
    assert rest == [[(4, EVENTS[3])]]
    await answers.close()


async def test_unnumbered_gives_the_events_one_at_a_time_and_closes_the_batches() -> None:
    closed = False

    async def batches() -> AsyncIterator[Batch]:
        nonlocal closed
        try:
            yield list(enumerate(EVENTS[:2], start=1))
            yield list(enumerate(EVENTS[2:], start=3))
        finally:
            closed = True

    events = unnumbered(batches())
    assert [event async for event in events] == EVENTS
    assert closed
