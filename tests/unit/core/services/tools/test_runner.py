"""The tool loop inside a turn, and ToolRunner / ToolCallAssembler on their own."""

from __future__ import annotations

import asyncio
from typing import Any

from switchboard.core.domain.conversations import MessageStatus, ToolCall
from switchboard.core.domain.events import (
    Done,
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
from switchboard.core.domain.tools import ToolContext, ToolOutcome
from switchboard.core.services.tools.runner import ToolCallAssembler, ToolPolicy, ToolRunner
from tests.support.fakes import ScriptedToolHost
from tests.unit.core.conftest import build_world


def call(index: int, call_id: str, name: str, arguments: str) -> list[object]:
    """A tool call streamed as a provider does: id and name first, the arguments in two pieces."""
    half = len(arguments) // 2
    return [ToolCallDelta(index, call_id, name, ""), ToolCallDelta(index, None, None, arguments[:half]),
            ToolCallDelta(index, None, None, arguments[half:])]


def answer(text: str) -> list[object]:
    return [TextDelta(text), Finish("stop"), Usage(10, 1)]


async def ok(arguments: dict[str, Any]) -> ToolOutcome:
    return ToolOutcome(f"result for {arguments}")


async def test_one_tool_call_runs_and_the_model_answers_with_its_result() -> None:
    host = ScriptedToolHost({"lookup": ok})
    w = build_world([*call(0, "call_1", "lookup", '{"q": "x"}'), Finish("tool_calls"), Usage(5, 3)],
                    answer("done"), tools=host)
    conversation = await w.conversation()

    events = await w.ask(conversation, "look it up")

    assert [type(e) for e in events] == [
        Started, ToolCallStarted, ToolCallArgsDelta, ToolCallArgsDelta, ToolCallRunning, ToolResult,
        TextDelta, Usage, MessageSaved, Done,
    ]
    running, result, usage = events[4], events[5], events[7]
    assert isinstance(running, ToolCallRunning) and running.arguments == '{"q": "x"}'
    assert isinstance(result, ToolResult) and not result.is_error and result.content == "result for {'q': 'x'}"
    assert isinstance(usage, Usage) and (usage.prompt_tokens, usage.completion_tokens) == (15, 4)
    [(name, arguments, ctx)] = host.calls
    assert (name, arguments, ctx.user_id, ctx.conversation_id) == ("lookup", {"q": "x"}, w.alice.user_id, conversation)

    _, with_calls, tool, final = w.messages(conversation)
    assert with_calls.tool_calls == [ToolCall(id="call_1", name="lookup", arguments='{"q": "x"}')]
    assert with_calls.status is MessageStatus.COMPLETED
    assert (tool.role, tool.tool_call_id, tool.name, tool.text) == ("tool", "call_1", "lookup", result.content)
    assert (final.role, final.text, final.status) == ("assistant", "done", MessageStatus.COMPLETED)
    second = w.provider.calls[1].messages
    assert second[-2]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"q": "x"}'}
    assert second[-1] == {"role": "tool", "tool_call_id": "call_1", "content": result.content}
    assert [t["function"]["name"] for t in w.provider.calls[0].tools] == ["lookup"]


async def test_parallel_tool_calls_run_at_the_same_time() -> None:
    started: list[str] = []
    both_running = asyncio.Event()

    async def waits_for_the_other(arguments: dict[str, Any]) -> ToolOutcome:
        started.append(arguments["n"])
        if len(started) == 2:
            both_running.set()
        async with asyncio.timeout(5):  # only reachable when both run at once
            await both_running.wait()
        return ToolOutcome(f"n={arguments['n']}")

    host = ScriptedToolHost({"slow": waits_for_the_other})
    w = build_world([*call(0, "a", "slow", '{"n": "1"}'), *call(1, "b", "slow", '{"n": "2"}'), Finish("tool_calls")],
                    answer("both done"), tools=host)
    conversation = await w.conversation()

    events = await w.ask(conversation)

    results = {e.call_id: e.content for e in events if isinstance(e, ToolResult)}
    assert results == {"a": "n=1", "b": "n=2"}
    assert isinstance(events[-1], Done) and events[-1].content == "both done"
    tool_messages = [m for m in w.messages(conversation) if m.role == "tool"]
    assert [m.tool_call_id for m in tool_messages] == ["a", "b"]


async def test_a_failing_tool_becomes_an_error_result_and_the_turn_continues() -> None:
    async def broken(arguments: dict[str, Any]) -> ToolOutcome:
        raise RuntimeError("disk on fire")

    host = ScriptedToolHost({"broken": broken})
    w = build_world([*call(0, "c1", "broken", "{}"), Finish("tool_calls")], answer("sorry"), tools=host)
    conversation = await w.conversation()

    events = await w.ask(conversation)

    [result] = [e for e in events if isinstance(e, ToolResult)]
    assert result.is_error and "disk on fire" in result.content
    assert isinstance(events[-1], Done) and events[-1].content == "sorry"
    tool = next(m for m in w.messages(conversation) if m.role == "tool")
    assert tool.error == "tool error"


async def test_an_unknown_tool_or_bad_arguments_are_error_results_the_model_reads() -> None:
    host = ScriptedToolHost({"lookup": ok})
    w = build_world([*call(0, "u", "no_such_tool", "{}"), *call(1, "v", "lookup", "[1, 2"), Finish("tool_calls")],
                    answer("recovered"), tools=host)

    events = await w.ask(await w.conversation())

    results = {e.call_id: e for e in events if isinstance(e, ToolResult)}
    assert results["u"].is_error and "no tool named 'no_such_tool'" in results["u"].content
    assert results["v"].is_error and "not a JSON object" in results["v"].content
    assert host.calls == [] and isinstance(events[-1], Done)


async def test_the_last_round_offers_no_tools_so_the_model_must_answer() -> None:
    host = ScriptedToolHost({"lookup": ok})
    w = build_world([*call(0, "r1", "lookup", "{}"), Finish("tool_calls")],
                    [*call(0, "r2", "lookup", "{}"), TextDelta("final words"), Finish("stop")],
                    tools=host, max_rounds=1)

    events = await w.ask(await w.conversation())

    assert [len(c.tools) for c in w.provider.calls] == [1, 0]
    assert len(host.calls) == 1  # the call the model made without tools is not run
    assert isinstance(events[-1], Done) and events[-1].content == "final words"


async def test_tools_disabled_on_the_request_offers_none() -> None:
    host = ScriptedToolHost({"lookup": ok})
    w = build_world(answer("plain"), tools=host)

    await w.ask(await w.conversation(), tools_enabled=False)

    assert w.provider.calls[0].tools == []


async def test_offered_tools_follow_the_admin_and_user_allow_lists() -> None:
    host = ScriptedToolHost({"a": ok, "b": ok, "c": ok})
    everything = ToolRunner(host, ToolPolicy())
    admin_limited = ToolRunner(host, ToolPolicy(allowed=frozenset({"a", "b"})))

    assert [s.name for s in await everything.offered(None)] == ["a", "b", "c"]
    assert [s.name for s in await admin_limited.offered(None)] == ["a", "b"]
    assert [s.name for s in await admin_limited.offered(["b", "c"])] == ["b"]
    assert [s.name for s in await everything.offered(["test"])] == ["a", "b", "c"]  # by category
    assert await ToolRunner(None, ToolPolicy()).offered(None) == []


async def test_run_all_reports_a_missing_host_as_an_error_result() -> None:
    runner = ToolRunner(None, ToolPolicy())
    calls = [ToolCall(id="x", name="lookup", arguments="{}")]
    results = [r async for r in runner.run_all(calls, [], ToolContext(user_id=1))]
    assert results[0].is_error


def test_the_assembler_joins_argument_pieces_and_names_calls_without_an_id() -> None:
    assembler = ToolCallAssembler()
    deltas = [ToolCallDelta(0, None, "f", '{"a"'), ToolCallDelta(0, None, None, ": 1}"),
              ToolCallDelta(1, "id2", "g", "")]
    events = [event for delta in deltas for event in assembler.feed(delta)]

    [first, second] = assembler.calls()
    assert first.id.startswith("call_") and (first.name, first.arguments) == ("f", '{"a": 1}')
    assert (second.id, second.name, second.arguments) == ("id2", "g", "")
    assert [type(e) for e in events] == [ToolCallStarted, ToolCallArgsDelta, ToolCallArgsDelta, ToolCallStarted]
