"""Proactive messages across workers (two BotRoutings on one push bus stand for two workers): a
message for a bot connected in the other worker is sent there and its outcome — done, or the
platform's refusal — comes back; no answer in time, or nobody with the bot, is a clear error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from switchboard.adapters.push.memory import InMemoryPushBus
from switchboard.core.domain.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from switchboard.core.domain.platforms import ImBot
from switchboard.platforms._shared.messages import Image, Reply, Target
from switchboard.platforms._shared.routing import BotRouting
from tests.support.fakes import eventually

TG = ImBot("tg", "telegram", "connected", None, {"switchboard_bot": True})


class Worker:
    def __init__(self, bus: InMemoryPushBus, worker_id: str, bots: list[ImBot]) -> None:
        self.bots = bots
        self.delivered: list[tuple[str, Target, Reply]] = []
        self.refusal: Exception | None = None
        self.hang = False
        self.routing = BotRouting(bus, worker_id, lambda: self.bots, self.deliver_here, announce_every=0.2,
                                  reply_timeout=0.5)

    async def deliver_here(self, platform_id: str, target: Target, reply: Reply) -> None:
        if self.hang:
            await asyncio.Event().wait()
        if self.refusal is not None:
            raise self.refusal
        self.delivered.append((platform_id, target, reply))


@pytest_asyncio.fixture
async def workers() -> AsyncIterator[tuple[Worker, Worker]]:
    bus = InMemoryPushBus()
    holder, other = Worker(bus, "wrk_holder", [TG]), Worker(bus, "wrk_other", [])
    for worker in (holder, other):
        await worker.routing.start()
    await eventually(lambda: other.routing.elsewhere("tg"))
    yield holder, other
    for worker in (holder, other):
        await worker.routing.close()


async def test_the_other_worker_learns_which_worker_holds_the_bot(workers: tuple[Worker, Worker]) -> None:
    holder, other = workers
    [announced] = other.routing.elsewhere("tg")
    assert (announced.worker, announced.bot.accounts) == ("wrk_holder", {"switchboard_bot": True})
    assert holder.routing.elsewhere("tg") == []  # its own bot is not "elsewhere"


async def test_a_message_sent_on_the_other_worker_is_delivered_by_the_holder(workers: tuple[Worker, Worker]) -> None:
    holder, other = workers
    assert await other.routing.deliver_elsewhere("tg", Target("private", "501"),
                                                 Reply("hello", [Image(b"\x89PNG...", "image/png")]))
    [(platform_id, target, reply)] = holder.delivered
    assert (platform_id, target, reply.text) == ("tg", Target("private", "501"), "hello")
    assert [(i.data, i.mime) for i in reply.images] == [(b"\x89PNG...", "image/png")]


async def test_the_platforms_refusal_comes_back_to_the_sender(workers: tuple[Worker, Worker]) -> None:
    holder, other = workers
    holder.refusal = UpstreamError("Telegram sendMessage: Bad Request: chat not found", status=400)
    with pytest.raises(UpstreamError, match="chat not found") as refused:
        await other.routing.deliver_elsewhere("tg", Target("private", "1"), Reply("hi"))
    assert refused.value.status == 400


async def test_a_holder_that_never_answers_is_a_timeout_naming_the_platform(workers: tuple[Worker, Worker]) -> None:
    holder, other = workers
    holder.hang = True
    with pytest.raises(UpstreamTimeout, match="platform tg did not answer"):
        await other.routing.deliver_elsewhere("tg", Target("private", "1"), Reply("hi"))


async def test_a_bot_nobody_else_holds_is_left_to_the_caller(workers: tuple[Worker, Worker]) -> None:
    _, other = workers
    assert not await other.routing.deliver_elsewhere("qq", Target("group", "1"), Reply("hi"))


async def test_a_holder_that_went_away_is_forgotten(workers: tuple[Worker, Worker]) -> None:
    holder, other = workers
    holder.bots = []  # its bot disconnected: it says so at once
    await eventually(lambda: not other.routing.elsewhere("tg"))
    holder.bots = [TG]
    await eventually(lambda: other.routing.elsewhere("tg"))
    for task in holder.routing._tasks:  # it dies without a word (kill -9): its announcement is still fresh
        task.cancel()
    await asyncio.gather(*holder.routing._tasks, return_exceptions=True)
    assert other.routing.elsewhere("tg")
    assert not await other.routing.deliver_elsewhere("tg", Target("private", "1"), Reply("hi"))
    assert not other.routing.elsewhere("tg") and holder.delivered == []  # nobody received it: forgotten


async def test_a_push_bus_that_fails_is_a_clear_error(workers: tuple[Worker, Worker],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _, other = workers

    async def refused(channel: str, payload: object) -> int:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    monkeypatch.setattr(other.routing._bus, "publish", refused)
    with pytest.raises(UpstreamUnavailable, match="platform tg cannot be reached: ConnectionError"):
        await other.routing.deliver_elsewhere("tg", Target("private", "1"), Reply("hi"))
