"""ChatEngine and Turn: the one path, its event order and what it stores, over in-memory fakes."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.core.domain.chat import ChatRequest, ProviderCall
from switchboard.core.domain.conversations import MessageStatus, text_parts
from switchboard.core.domain.errors import NotFound, UpstreamError
from switchboard.core.domain.events import (
    Done,
    Failed,
    Finish,
    MessageSaved,
    ReasoningDelta,
    Started,
    TextDelta,
    Usage,
)
from switchboard.core.domain.tools import ToolOutcome, ToolSpec
from switchboard.core.domain.users import Principal
from switchboard.core.services.quotas.allowances import STREAM_SLACK_EVENTS, QuotaPolicy
from tests.support.fakes import Pause, ScriptedToolHost, eventually
from tests.unit.core.conftest import World, build_world


def kinds(events: list[object]) -> list[type]:
    return [type(e) for e in events]


async def test_event_order_and_the_stored_answer() -> None:
    w = build_world([ReasoningDelta("think"), TextDelta("Hel"), TextDelta("lo"), Finish("stop"), Usage(7, 2)])
    conversation = await w.conversation()

    events = await w.ask(conversation, "hi")

    assert kinds(events) == [Started, ReasoningDelta, TextDelta, TextDelta, Usage, MessageSaved, Done]
    started, done = events[0], events[-1]
    assert isinstance(started, Started) and isinstance(done, Done)
    assert started.conversation_id == conversation and started.model == "m"
    assert done.message_id == started.message_id and done.content == "Hello" and done.reasoning == "think"
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.estimated) == (7, 2, False)
    user, answer = w.messages(conversation)
    assert (user.role, user.text, user.id) == ("user", "hi", started.user_message_id)
    assert (answer.id, answer.status, answer.text, answer.reasoning) == (
        started.message_id, MessageStatus.COMPLETED, "Hello", "think")
    assert answer.usage is not None and answer.usage.total_tokens == 9
    [entry] = w.uow.store.ledger
    assert (entry.message_id, entry.tokens_prompt, entry.tokens_completion, entry.estimated) == (answer.id, 7, 2, False)
    quota = w.uow.store.quotas[w.alice.user_id]
    assert (quota.used, quota.reserved) == (9, 0)  # unlimited users are metered too
    assert w.provider.calls[0].model == "up-m"  # the upstream name from the catalog


async def test_the_user_message_is_committed_before_the_provider_is_called() -> None:
    seen: list[tuple[str, str, MessageStatus]] = []
    w: World

    async def look_at_the_database(call: ProviderCall) -> None:
        seen.extend((m.role, m.text, m.status) for m in w.uow.store.messages.values())

    w = build_world([look_at_the_database, TextDelta("ok"), Finish("stop"), Usage(1, 1)])
    await w.ask(await w.conversation(), "first question")

    assert seen == [("user", "first question", MessageStatus.COMPLETED), ("assistant", "", MessageStatus.STREAMING)]


async def test_an_upstream_error_mid_stream_stores_a_failed_message_with_the_partial_text() -> None:
    w = build_world([TextDelta("partial "), TextDelta("answer"), UpstreamError("upstream broke", status=500)])
    conversation = await w.conversation()

    events = await w.ask(conversation)

    assert kinds(events) == [Started, TextDelta, TextDelta, Failed]
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.code == "upstream_error" and failed.message == "upstream broke"
    answer = w.messages(conversation)[-1]
    assert (failed.message_id, answer.status, answer.text, answer.error) == (
        answer.id, MessageStatus.FAILED, "partial answer", "upstream broke")
    assert w.uow.store.quotas[w.alice.user_id].reserved == 0


async def test_a_bug_in_the_provider_fails_the_turn_without_leaking_details() -> None:
    w = build_world([TextDelta("so far"), RuntimeError("secret internals")])
    conversation = await w.conversation()

    failed = (await w.ask(conversation))[-1]

    assert isinstance(failed, Failed) and failed.code == "internal_error" and "secret" not in failed.message
    answer = w.messages(conversation)[-1]
    assert (answer.status, answer.text, answer.error) == (MessageStatus.FAILED, "so far", "internal error")


async def test_a_consumer_that_stops_reading_leaves_an_interrupted_message_and_closes_the_upstream() -> None:
    w = build_world([TextDelta("half "), Pause(5), TextDelta("never")])
    conversation = await w.conversation()
    turn = await w.engine.start(ChatRequest(conversation_id=conversation, parts=text_parts("q")), w.alice)

    events = turn.events()
    async for event in events:
        if isinstance(event, TextDelta):
            break
    await events.aclose()  # type: ignore[attr-defined]

    answer = w.messages(conversation)[-1]
    assert (answer.status, answer.text) == (MessageStatus.INTERRUPTED, "half ")
    assert answer.usage is not None and answer.usage.estimated and answer.usage.completion_tokens == 1
    assert w.provider.abandoned == 1
    assert w.uow.store.quotas[w.alice.user_id].reserved == 0


async def test_cancelling_the_consuming_task_also_interrupts() -> None:
    w = build_world([TextDelta("before the cancel"), Pause(30)])
    conversation = await w.conversation()
    first_text = asyncio.Event()

    async def consume() -> None:
        async for event in w.engine.run(ChatRequest(conversation_id=conversation, parts=text_parts("q")), w.alice):
            if isinstance(event, TextDelta):
                first_text.set()

    task = asyncio.create_task(consume())
    await first_text.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    answer = w.messages(conversation)[-1]
    assert (answer.status, answer.text) == (MessageStatus.INTERRUPTED, "before the cancel")
    assert w.provider.abandoned == 1


async def test_the_answer_is_flushed_periodically_while_streaming_and_never_per_token() -> None:
    w: World
    tokens = 300

    async def until_flushed(call: ProviderCall) -> None:
        updates = w.uow.store.message_updates
        await eventually(lambda: any(u.status is MessageStatus.STREAMING and u.text for u in updates))

    script: list[object] = [TextDelta("t ") for _ in range(tokens // 2)]
    script += [until_flushed, *(TextDelta("t ") for _ in range(tokens // 2)), Finish("stop"), Usage(1, tokens)]
    w = build_world(script, flush_seconds=0.01)
    conversation = await w.conversation()

    await w.ask(conversation)

    answer = w.messages(conversation)[-1]
    updates = [u for u in w.uow.store.message_updates if u.id == answer.id]
    streaming = [u for u in updates if u.status is MessageStatus.STREAMING]
    assert streaming and streaming[0].text == "t " * (tokens // 2)  # the partial answer was written
    assert len(updates) < tokens // 10  # far fewer writes than tokens
    assert updates[-1].status is MessageStatus.COMPLETED and answer.text == "t " * tokens


async def test_a_flush_still_on_its_way_when_the_answer_ends_lands_before_the_final_write() -> None:
    """A flush that outlives its caller (a PostgreSQL step runs to its end once started) must not
    write its older snapshot over the final state: the end waits for it."""
    w: World
    slow, flush_started = False, asyncio.Event()

    async def slowly_flushed(call: ProviderCall) -> None:
        nonlocal slow
        slow = True
        await flush_started.wait()

    w = build_world([TextDelta("a "), slowly_flushed, TextDelta("b"), Finish("stop"), Usage(1, 2)],
                    flush_seconds=0.01)
    real_run = w.uow.run

    async def run(step):  # type: ignore[no-untyped-def]
        nonlocal slow
        if not slow:
            return await real_run(step)
        slow = False
        flush_started.set()

        async def later():  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.05)
            return await real_run(step)

        return await asyncio.shield(asyncio.ensure_future(later()))

    w.uow.run = run  # type: ignore[method-assign]
    conversation = await w.conversation()

    await w.ask(conversation)
    await asyncio.sleep(0.1)  # anything still on its way has landed

    answer = w.messages(conversation)[-1]
    assert (answer.status, answer.text) == (MessageStatus.COMPLETED, "a b")


async def test_usage_is_estimated_when_the_provider_reports_none() -> None:
    w = build_world([TextDelta("one two three"), Finish("stop")])
    conversation = await w.conversation()

    done = (await w.ask(conversation, "count these words"))[-1]

    assert isinstance(done, Done)
    # WordCounter: 1 per message + 1 per word; the answer has three words
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.estimated) == (4, 3, True)
    assert w.uow.store.ledger[0].estimated is True
    assert w.uow.store.quotas[w.alice.user_id].used == 7


async def test_a_limited_allowance_is_held_during_the_call_caps_max_tokens_and_is_settled() -> None:
    w: World
    held: list[int] = []

    async def peek(call: ProviderCall) -> None:
        held.append(w.uow.store.quotas[w.alice.user_id].reserved)

    w = build_world([peek, TextDelta("fine"), Finish("stop"), Usage(3, 1)], allowance=100,
                    policy=QuotaPolicy(completion_reserve=50, min_completion=10))
    await w.ask(await w.conversation(), "a b")  # prompt estimate: 1 + 2 words = 3

    assert held == [53]
    assert w.provider.calls[0].options["max_tokens"] == 50
    quota = w.uow.store.quotas[w.alice.user_id]
    assert (quota.used, quota.reserved) == (4, 0)


async def test_a_refused_reservation_fails_before_anything_is_stored_or_called() -> None:
    w = build_world([TextDelta("never")], allowance=5, policy=QuotaPolicy(completion_reserve=50, min_completion=10))
    conversation = await w.conversation()

    events = await w.ask(conversation, "a question that is far too long for five tokens")

    assert kinds(events) == [Failed] and events[0].code == "quota_exceeded"  # type: ignore[attr-defined]
    assert w.messages(conversation) == [] and w.provider.calls == []
    assert w.uow.store.quotas[w.alice.user_id].reserved == 0


async def test_regenerate_marks_the_old_answer_deleted_and_answers_the_same_question_again() -> None:
    w = build_world([TextDelta("first"), Finish("stop"), Usage(1, 1)],
                    [TextDelta("second"), Finish("stop"), Usage(1, 1)])
    conversation = await w.conversation()
    await w.ask(conversation, "the question")
    old_user, old_answer = w.messages(conversation)

    events = [e async for e in w.engine.run(ChatRequest(conversation_id=conversation, regenerate=True), w.alice)]

    started = events[0]
    assert isinstance(started, Started) and started.user_message_id == old_user.id
    user, old, new = w.messages(conversation)
    assert (user.id, old.id) == (old_user.id, old_answer.id)
    assert old.is_deleted and not new.is_deleted and new.text == "second"
    sent = w.provider.calls[1].messages
    assert sent == [{"role": "user", "content": "the question"}]


async def test_regenerate_without_an_earlier_question_is_invalid() -> None:
    w = build_world()
    events = [e async for e in w.engine.run(ChatRequest(conversation_id=await w.conversation(), regenerate=True),
                                            w.alice)]
    assert kinds(events) == [Failed] and events[0].code == "invalid_input"  # type: ignore[attr-defined]


async def test_a_key_limited_to_other_models_is_refused_and_a_matching_one_allowed() -> None:
    w = build_world([TextDelta("ok"), Finish("stop"), Usage(1, 1)], models=("m", "other"))
    conversation = await w.conversation()

    limited = Principal(**{**_fields(w.alice), "allowed_models": ("other",), "via": "api_key"})
    refused = await w.ask(conversation, who=limited)
    allowed = Principal(**{**_fields(w.alice), "allowed_models": ("m",), "via": "api_key"})
    accepted = await w.ask(conversation, who=allowed)

    assert kinds(refused) == [Failed] and refused[0].code == "forbidden"  # type: ignore[attr-defined]
    assert isinstance(accepted[-1], Done)


async def test_an_unknown_model_is_refused() -> None:
    w = build_world()
    events = await w.ask(await w.conversation(), model="nope")
    assert kinds(events) == [Failed] and events[0].code == "unknown_model"  # type: ignore[attr-defined]


async def test_another_users_conversation_is_not_found() -> None:
    w = build_world([TextDelta("never")])
    conversation = await w.conversation(owner=w.alice)

    events = await w.ask(conversation, who=w.bob)
    with pytest.raises(NotFound):
        await w.engine.start(ChatRequest(conversation_id=conversation, parts=text_parts("x")), w.bob)

    assert kinds(events) == [Failed] and events[0].code == "not_found"  # type: ignore[attr-defined]
    assert w.messages(conversation) == [] and w.provider.calls == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
async def test_empty_or_too_long_messages_are_invalid(text: str) -> None:
    w = build_world()
    events = await w.ask(await w.conversation(), text)
    assert kinds(events) == [Failed] and events[0].code == "invalid_input"  # type: ignore[attr-defined]


async def test_the_first_message_titles_a_new_conversation_and_history_reaches_the_provider() -> None:
    w = build_world([TextDelta("A1"), Finish("stop"), Usage(1, 1)], [TextDelta("A2"), Finish("stop"), Usage(1, 1)])
    conversation = await w.conversation(system_prompt="be brief", temperature=0.5)

    await w.ask(conversation, "  what   is this  ")
    await w.ask(conversation, "and that?")

    assert w.uow.store.conversations[conversation].title == "what is this"
    assert w.provider.calls[1].messages == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "  what   is this  "},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "and that?"},
    ]
    assert w.provider.calls[1].options["temperature"] == 0.5


def _fields(principal: Principal) -> dict[str, object]:
    return {name: getattr(principal, name) for name in principal.__dataclass_fields__}


async def test_a_turn_asked_without_tools_does_not_list_the_hosts_tools() -> None:
    class CountingHost(ScriptedToolHost):
        listed = 0

        async def specs(self) -> list[ToolSpec]:
            self.listed += 1
            return await super().specs()

    async def never(arguments: dict[str, object]) -> ToolOutcome:
        raise AssertionError("not offered, never called")

    host = CountingHost({"clock": never})
    w = build_world([TextDelta("a"), Finish("stop"), Usage(1, 1)], [TextDelta("b"), Finish("stop"), Usage(1, 1)],
                    tools=host)
    conversation = await w.conversation(tools_enabled=True)

    await w.ask(conversation, tools_enabled=False)
    assert host.listed == 0 and w.provider.calls[0].tools == []
    await w.ask(conversation)  # the conversation's own setting: offered
    assert host.listed == 1 and [t["function"]["name"] for t in w.provider.calls[1].tools] == ["clock"]


async def test_the_events_of_one_provider_list_reach_the_client_as_one_list() -> None:
    w = build_world([[TextDelta("Hel"), TextDelta("lo"), Finish("stop"), Usage(3, 2)]])
    conversation = await w.conversation()
    turn = await w.engine.start(ChatRequest(conversation_id=conversation, parts=text_parts("hi")), w.alice)

    batches = [batch async for batch in turn.batches()]

    assert [kinds(batch) for batch in batches] == [[Started], [TextDelta, TextDelta], [Usage, MessageSaved, Done]]
    done = batches[-1][-1]
    assert isinstance(done, Done) and done.content == "Hello" and done.finish_reason == "stop"


async def test_a_provider_list_past_the_cap_is_cut_at_the_cap_and_ends_the_answer_as_length() -> None:
    w = build_world([[TextDelta("w ") for _ in range(200)] + [Finish("stop")]], allowance=1000,
                    policy=QuotaPolicy(completion_reserve=50, min_completion=10))
    conversation = await w.conversation()

    events = await w.ask(conversation, "a b")

    done = events[-1]
    allowed = 50 + STREAM_SLACK_EVENTS
    assert isinstance(done, Done) and done.finish_reason == "length" and done.content == "w " * allowed
    assert w.messages(conversation)[-1].text == "w " * allowed
