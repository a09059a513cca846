"""A turn whose caller takes the whole answer at once (ChatRequest.streamed False): the provider is
asked unstreamed, answers with ONE list of events, and the turn stores, settles and runs its
tools exactly as for a streamed answer."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.core.domain.chat import ChatRequest, ProviderCall
from switchboard.core.domain.conversations import MessageStatus, text_parts
from switchboard.core.domain.errors import UpstreamError
from switchboard.core.domain.events import (
    Done,
    Failed,
    Finish,
    MessageSaved,
    Started,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallDelta,
    ToolCallRunning,
    ToolCallStarted,
    ToolResult,
    Usage,
)
from switchboard.core.domain.tools import ToolOutcome
from switchboard.core.services.quotas.allowances import QuotaPolicy
from tests.support.fakes import Pause, ScriptedToolHost, eventually
from tests.unit.core.conftest import World, build_world


def kinds(events: list[object]) -> list[type]:
    return [type(e) for e in events]


async def test_the_provider_is_asked_unstreamed_only_when_the_caller_wants_the_whole_answer() -> None:
    w = build_world([[TextDelta("whole"), Finish("stop"), Usage(3, 1)]], [[TextDelta("streamed"), Finish("stop")]])
    conversation = await w.conversation()

    await w.ask(conversation, "once", streamed=False)
    await w.ask(conversation, "twice")

    assert [call.streamed for call in w.provider.calls] == [False, True]


async def test_a_whole_answer_in_one_list_is_stored_and_settled_as_a_streamed_one() -> None:
    w = build_world([[TextDelta("Hello whole world"), Finish("length"), Usage(7, 3)]])
    conversation = await w.conversation()

    events = await w.ask(conversation, "hi", streamed=False)

    assert kinds(events) == [Started, TextDelta, Usage, MessageSaved, Done]
    done = events[-1]
    assert isinstance(done, Done) and (done.content, done.finish_reason) == ("Hello whole world", "length")
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.estimated) == (7, 3, False)
    answer = w.messages(conversation)[-1]
    assert (answer.status, answer.text, answer.usage) == (MessageStatus.COMPLETED, "Hello whole world", done.usage)
    [entry] = w.uow.store.ledger
    assert (entry.tokens_prompt, entry.tokens_completion, entry.estimated) == (7, 3, False)
    quota = w.uow.store.quotas[w.alice.user_id]
    assert (quota.used, quota.reserved) == (10, 0)


async def test_a_whole_answer_without_usage_is_estimated() -> None:
    w = build_world([[TextDelta("three words here"), Finish("stop")]])
    conversation = await w.conversation()

    done = (await w.ask(conversation, "count me", streamed=False))[-1]

    assert isinstance(done, Done) and done.usage.estimated and done.usage.completion_tokens == 3
    [entry] = w.uow.store.ledger
    assert entry.estimated and entry.tokens_completion == 3


async def test_a_tool_call_in_a_whole_answer_runs_the_tool_loop_once_per_round() -> None:
    async def lookup(arguments: dict[str, object]) -> ToolOutcome:
        return ToolOutcome(f"found {arguments['q']}")

    host = ScriptedToolHost({"lookup": lookup})
    w = build_world(
        [[ToolCallDelta(0, "c1", "lookup", '{"q": "x"}'), Finish("tool_calls"), Usage(5, 3)]],
        [[TextDelta("x it is"), Finish("stop"), Usage(9, 2)]],
        tools=host,
    )
    conversation = await w.conversation()

    events = await w.ask(conversation, "find x", streamed=False)

    assert kinds(events)[:5] == [Started, ToolCallStarted, ToolCallArgsDelta, ToolCallRunning, ToolResult]
    assert [name for name, _, _ in host.calls] == ["lookup"]
    second = w.provider.calls[1]
    assert second.streamed is False and second.messages[-1] == {
        "role": "tool", "tool_call_id": "c1", "content": "found x"}
    done = events[-1]
    assert isinstance(done, Done) and done.content == "x it is"
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (14, 5)
    stored = w.messages(conversation)
    assert [(m.role, m.status) for m in stored] == [
        ("user", MessageStatus.COMPLETED), ("assistant", MessageStatus.COMPLETED), ("tool", MessageStatus.COMPLETED),
        ("assistant", MessageStatus.COMPLETED)]
    assert stored[1].tool_calls and stored[1].tool_calls[0].arguments == '{"q": "x"}'


async def test_an_upstream_error_before_the_whole_answer_fails_the_turn_and_releases_the_hold() -> None:
    w = build_world([UpstreamError("provider failed (HTTP 500): overloaded", status=500)], allowance=5000)
    conversation = await w.conversation()

    events = await w.ask(conversation, "hi", streamed=False)

    assert kinds(events) == [Started, Failed]
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.code == "upstream_error" and "overloaded" in failed.message
    answer = w.messages(conversation)[-1]
    assert (answer.status, answer.text) == (MessageStatus.FAILED, "")
    assert w.uow.store.quotas[w.alice.user_id].reserved == 0


async def test_a_caller_gone_while_the_whole_answer_is_awaited_leaves_it_interrupted() -> None:
    w = build_world([Pause(30), [TextDelta("never seen"), Finish("stop")]], allowance=5000)
    conversation = await w.conversation()
    request = ChatRequest(conversation_id=conversation, parts=text_parts("hi"), streamed=False)
    turn = await w.engine.start(request, w.alice)

    async def consume() -> None:
        async for _ in turn.events():
            pass

    task = asyncio.create_task(consume())
    await eventually(lambda: bool(w.provider.calls))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    answer = w.messages(conversation)[-1]
    assert (answer.status, answer.text) == (MessageStatus.INTERRUPTED, "")
    assert w.provider.abandoned == 1
    assert w.uow.store.quotas[w.alice.user_id].reserved == 0


async def test_a_limited_allowance_caps_and_settles_a_whole_answer_as_a_streamed_one() -> None:
    w: World
    held: list[int] = []

    async def peek(call: ProviderCall) -> None:
        held.append(w.uow.store.quotas[w.alice.user_id].reserved)

    w = build_world([peek, [TextDelta("fine"), Finish("stop"), Usage(3, 1)]], allowance=100,
                    policy=QuotaPolicy(completion_reserve=50, min_completion=10))
    await w.ask(await w.conversation(), "a b", streamed=False)  # prompt estimate: 1 + 2 words = 3

    assert held == [53]
    call = w.provider.calls[0]
    assert call.options["max_tokens"] == 50 and call.streamed is False
    quota = w.uow.store.quotas[w.alice.user_id]
    assert (quota.used, quota.reserved) == (4, 0)


def flushers() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.endswith("_flush_periodically")]


@pytest.mark.parametrize(("streamed", "expected"), [(False, 0), (True, 1)])
async def test_a_whole_answer_runs_no_periodic_flush_while_a_streamed_one_does(streamed: bool, expected: int) -> None:
    # an unstreamed answer arrives whole and its final write stores it: there is nothing to flush before
    w = build_world([Pause(30)], flush_seconds=0.01)
    conversation = await w.conversation()
    turn = await w.engine.start(
        ChatRequest(conversation_id=conversation, parts=text_parts("hi"), streamed=streamed), w.alice)

    async def consume() -> None:
        async for _ in turn.events():
            pass

    task = asyncio.create_task(consume())
    await eventually(lambda: bool(w.provider.calls))  # the turn waits on the provider now
    assert len(flushers()) == expected
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert flushers() == []
    assert w.messages(conversation)[-1].status == MessageStatus.INTERRUPTED
