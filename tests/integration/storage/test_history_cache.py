"""A worker's cache of conversations' recent history (issue 20), on both databases: a turn after
this worker's own turn reads no history; any other write to the conversation's messages (another
worker's turn, a hand-written INSERT/UPDATE/DELETE, a delete, a retry or edit, a tool round, a
write between a turn's steps) makes the next turn read the database again. Whatever the cache
holds is exactly what the database would answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.chat import ChatRequest, ProviderCall
from switchboard.core.domain.conversations import Message, text_parts
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.events import Finish, TextDelta, ToolCallDelta, Usage
from switchboard.core.domain.tools import ToolOutcome
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import Tx
from switchboard.core.services.chat.engine import ChatEngine, EngineSettings
from switchboard.core.services.conversations.history import ConversationService
from switchboard.core.services.media.files import FileService
from switchboard.core.services.quotas.allowances import QuotaService
from switchboard.core.services.tools.runner import ToolPolicy, ToolRunner
from tests.integration.storage.test_turn_durability import DEAD, POLICY, TURN_TOKENS, _drain, enrol, new_conversation
from tests.support.fakes import (
    FixedClock,
    InMemoryBlobStore,
    InMemoryCatalog,
    Pause,
    ScriptedProvider,
    ScriptedToolHost,
    WordCounter,
)

T = TypeVar("T")
ANSWER: list[Any] = [TextDelta("fine thanks"), Usage(3, 100), Finish("stop")]


class _CountingMessages:
    def __init__(self, real: Any, worker: Worker) -> None:
        self._real = real
        self._worker = worker

    async def list(self, *args: Any, **kwargs: Any) -> list[Message]:
        self._worker.history_reads += 1
        result: list[Message] = await self._real.list(*args, **kwargs)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _CountingTx:
    def __init__(self, real: Tx, worker: Worker) -> None:
        self._real = real
        self.messages = _CountingMessages(real.messages, worker)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class Worker:
    """One worker process: its own engine (and so its own cache) on the shared database, counting
    the history reads its turns make."""

    def __init__(self, uow: SqlUnitOfWork, provider: ScriptedProvider, clock: FixedClock, tools: Any = None,
                 history_messages: int = 100, flush_seconds: float = 60.0) -> None:
        self.real = uow
        self.history_reads = 0
        self.catalog = InMemoryCatalog({"m": provider})
        files = FileService(self, InMemoryBlobStore(), clock, 1_000_000)
        self.engine = ChatEngine(self, self.catalog, QuotaService(self, POLICY, DEAD),
                                 ToolRunner(tools, ToolPolicy(max_rounds=2)), files, WordCounter(), clock,
                                 EngineSettings(flush_seconds=flush_seconds, history_messages=history_messages))

    def __call__(self) -> AbstractAsyncContextManager[Tx]:
        return self.real()

    def read(self) -> AbstractAsyncContextManager[Tx]:
        return self.real.read()

    async def run(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        return await self.real.run(lambda tx: step(_CountingTx(tx, self)))  # type: ignore[arg-type]

    async def run_read(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        return await self.real.run_read(lambda tx: step(_CountingTx(tx, self)))  # type: ignore[arg-type]

    async def ping(self) -> bool:
        return await self.real.ping()

    async def turn(self, who: Principal, conversation_id: str, words: str = "hello there", **request: Any) -> int:
        """A whole turn; how many history reads it made."""
        before = self.history_reads
        chat = ChatRequest(conversation_id=conversation_id, parts=text_parts(words) if words else [], **request)
        await _drain((await self.engine.start(chat, who)).events())
        return self.history_reads - before

    async def cache_is_the_database(self, conversation_id: str) -> bool:
        """The cached history, if any, is what the database answers now (checked from the inside:
        a stale entry would only show as a wrong answer some turns later)."""
        cache, limit = self.engine._history, self.engine.settings.history_messages
        async with self.real.read() as tx:
            revision = await tx.conversations.revision(conversation_id)
            stored = await tx.messages.list(conversation_id, limit)
        cached = cache.get(conversation_id, revision, limit) if revision is not None else None
        return cached is not None and cached.messages() == stored


async def alice_and_conversation(uow: SqlUnitOfWork) -> tuple[FixedClock, Principal, str]:
    clock = FixedClock()
    alice = await enrol(uow, clock, allowance=40 * TURN_TOKENS)
    return clock, alice, await new_conversation(uow, clock, alice)


def answers(turns: int) -> ScriptedProvider:
    return ScriptedProvider(*[list(ANSWER) for _ in range(turns)])


async def raw(uow: SqlUnitOfWork, sql: str, **values: Any) -> None:
    async with uow() as tx:
        await tx.messages._connection.execute(text(sql), values)  # type: ignore[attr-defined]


async def test_the_next_turn_reads_no_history_and_the_cache_is_what_the_database_holds(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    worker = Worker(uow, answers(3), clock)

    assert await worker.turn(alice, conversation, "first") == 1  # nothing cached yet
    assert await worker.cache_is_the_database(conversation)
    assert await worker.turn(alice, conversation, "second") == 0
    assert await worker.turn(alice, conversation, "third") == 0
    assert await worker.cache_is_the_database(conversation)
    sent = worker.catalog.providers["m"].calls[-1].messages
    assert [m["content"] for m in sent] == ["first", "fine thanks", "second", "fine thanks", "third"]


async def test_another_workers_turn_makes_the_next_turn_read_again(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    this, other = Worker(uow, answers(3), clock), Worker(uow, answers(1), clock)
    await this.turn(alice, conversation, "first")

    await other.turn(alice, conversation, "elsewhere")

    assert await this.turn(alice, conversation, "back") == 1
    sent = this.catalog.providers["m"].calls[-1].messages
    assert [m["content"] for m in sent] == ["first", "fine thanks", "elsewhere", "fine thanks", "back"]
    assert await this.cache_is_the_database(conversation)


@pytest.mark.parametrize("sql", [
    "INSERT INTO messages (conversation_id, role, parts, status, reasoning, tool_calls, is_deleted, created_at,"
    " updated_at) SELECT conversation_id, 'user', parts, status, '', tool_calls, is_deleted, created_at, updated_at"
    " FROM messages WHERE id = (SELECT MIN(id) FROM messages WHERE conversation_id = :conversation)",
    "UPDATE messages SET reasoning = 'edited by hand' WHERE conversation_id = :conversation",
    "DELETE FROM messages WHERE id = (SELECT MAX(id) FROM messages WHERE conversation_id = :conversation)",
], ids=["insert", "update", "delete"])
async def test_a_write_by_hand_makes_the_next_turn_read_again(uow: SqlUnitOfWork, sql: str) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    worker = Worker(uow, answers(2), clock)
    await worker.turn(alice, conversation, "first")

    await raw(uow, sql, conversation=conversation)

    assert await worker.turn(alice, conversation, "second") == 1
    assert await worker.cache_is_the_database(conversation)


async def test_deleting_a_message_or_the_conversation(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    worker = Worker(uow, answers(3), clock)
    await worker.turn(alice, conversation, "first")
    await worker.turn(alice, conversation, "second")
    async with uow.read() as tx:
        first_answer = (await tx.messages.list(conversation, 10))[1]

    await ConversationService(uow, clock).delete_message(alice, first_answer.id)
    assert await worker.turn(alice, conversation, "third") == 1
    assert "fine thanks" not in [m["content"] for m in worker.catalog.providers["m"].calls[-1].messages[:2]]

    await ConversationService(uow, clock).delete(alice, conversation)
    with pytest.raises(NotFound):
        await worker.turn(alice, conversation, "gone")


async def test_retry_and_edit_are_cached_as_the_database_has_them(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    worker = Worker(uow, answers(4), clock)
    await worker.turn(alice, conversation, "first")
    await worker.turn(alice, conversation, "second")

    assert await worker.turn(alice, conversation, "", regenerate=True) == 0
    assert await worker.cache_is_the_database(conversation)
    async with uow.read() as tx:
        last_question = (await tx.messages.list(conversation, 10))[-2]
    assert await worker.turn(alice, conversation, "second, edited", edit_message_id=last_question.id) == 0
    assert await worker.cache_is_the_database(conversation)
    sent = worker.catalog.providers["m"].calls[-1].messages
    assert [m["content"] for m in sent] == ["first", "fine thanks", "second, edited"]


async def test_a_full_window_keeps_the_newest_messages(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    worker = Worker(uow, answers(5), clock, history_messages=4)
    for words in ("one", "two", "three"):
        await worker.turn(alice, conversation, words)
    assert await worker.cache_is_the_database(conversation)  # the newest 4 of 6

    await worker.turn(alice, conversation, "", regenerate=True)  # 4 - 1 superseded + 1: still full
    assert await worker.cache_is_the_database(conversation)
    assert await worker.turn(alice, conversation, "four") == 0
    sent = worker.catalog.providers["m"].calls[-1].messages
    assert [m["content"] for m in sent] == ["two", "fine thanks", "three", "fine thanks", "four"]


async def test_a_turn_with_tool_rounds_leaves_the_next_to_read(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)

    async def lookup(_arguments: dict[str, Any]) -> ToolOutcome:
        return ToolOutcome("found it")

    provider = ScriptedProvider(list(ANSWER), [ToolCallDelta(0, "call_1", "lookup", "{}"), Finish("tool_calls")],
                                *[list(ANSWER) for _ in range(4)])
    worker = Worker(uow, provider, clock, tools=ScriptedToolHost({"lookup": lookup}))
    await worker.turn(alice, conversation, "first")

    await worker.turn(alice, conversation, "look it up")

    assert await worker.turn(alice, conversation, "thanks") == 1
    roles = [m["role"] for m in provider.calls[-1].messages]
    assert roles == ["user", "assistant", "user", "assistant", "tool", "assistant", "user"]
    assert await worker.cache_is_the_database(conversation)


async def test_a_retry_that_shrinks_a_full_window_leaves_the_next_to_read(uow: SqlUnitOfWork) -> None:
    """The retry supersedes an answer of three rows (tool call, tool, answer) and adds one: older
    messages the turn never read move into the window, so it caches nothing."""
    clock, alice, conversation = await alice_and_conversation(uow)

    async def lookup(_arguments: dict[str, Any]) -> ToolOutcome:
        return ToolOutcome("found it")

    provider = ScriptedProvider(list(ANSWER), [ToolCallDelta(0, "call_1", "lookup", "{}"), Finish("tool_calls")],
                                *[list(ANSWER) for _ in range(3)])
    worker = Worker(uow, provider, clock, tools=ScriptedToolHost({"lookup": lookup}), history_messages=4)
    await worker.turn(alice, conversation, "first")
    await worker.turn(alice, conversation, "look it up")  # rows: user, assistant, user, call, tool, answer

    assert await worker.turn(alice, conversation, "", regenerate=True) == 1
    assert not await worker.cache_is_the_database(conversation)

    assert await worker.turn(alice, conversation, "next") == 1
    assert [m["content"] for m in provider.calls[-1].messages] == [
        "first", "fine thanks", "look it up", "fine thanks", "next"]
    assert await worker.cache_is_the_database(conversation)


async def test_flushes_are_counted_as_the_turns_own_writes(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    slow = [TextDelta("fine "), Pause(0.2), TextDelta("thanks"), Usage(3, 100), Finish("stop")]
    worker = Worker(uow, ScriptedProvider(list(ANSWER), slow, list(ANSWER)), clock, flush_seconds=0.05)
    await worker.turn(alice, conversation, "first")

    await worker.turn(alice, conversation, "slowly")  # flushed at least once while it paused

    assert await worker.cache_is_the_database(conversation)
    assert await worker.turn(alice, conversation, "third") == 0


@pytest.mark.parametrize("cold", [False, True], ids=["one step", "two steps"])
async def test_a_write_while_a_turn_streams_is_never_hidden(uow: SqlUnitOfWork, cold: bool) -> None:
    """Another worker commits between this turn's start and its final write (on PostgreSQL,
    READ COMMITTED lets the final write's transaction see it): the turn must not cache."""
    clock, alice, conversation = await alice_and_conversation(uow)

    async def meanwhile(_call: ProviderCall) -> None:
        await raw(uow, "UPDATE messages SET reasoning = 'meanwhile' WHERE conversation_id = :conversation",
                  conversation=conversation)

    worker = Worker(uow, ScriptedProvider(list(ANSWER), [meanwhile, *ANSWER], list(ANSWER)), clock)
    await worker.turn(alice, conversation, "first")
    worker.catalog.cold = cold

    await worker.turn(alice, conversation, "second")

    assert not await worker.cache_is_the_database(conversation)
    assert await worker.turn(alice, conversation, "third") == 1
    assert await worker.cache_is_the_database(conversation)


async def test_a_write_between_the_read_and_the_write_of_a_two_step_start(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    worker = Worker(uow, answers(3), clock)
    await worker.turn(alice, conversation, "first")
    resolve = worker.catalog.resolve

    async def resolve_while_another_writes(model: str) -> Any:
        await raw(uow, "UPDATE messages SET reasoning = 'meanwhile' WHERE conversation_id = :conversation",
                  conversation=conversation)
        return await resolve(model)

    worker.catalog.cold = True
    worker.catalog.resolve = resolve_while_another_writes  # type: ignore[method-assign]
    assert await worker.turn(alice, conversation, "second") == 0  # read from the cache, then the write

    assert not await worker.cache_is_the_database(conversation)
    worker.catalog.cold = False
    assert await worker.turn(alice, conversation, "third") == 1


async def test_each_message_row_written_bumps_its_conversations_revision_once(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    other = await new_conversation(uow, clock, alice)
    worker = Worker(uow, answers(2), clock)
    await worker.turn(alice, conversation, "first")  # question and answer added (2), answer's final write (1)
    await worker.turn(alice, other, "first")

    async def revisions() -> tuple[int | None, int | None]:
        async with uow.read() as tx:
            return await tx.conversations.revision(conversation), await tx.conversations.revision(other)

    assert await revisions() == (3, 3)
    await raw(uow, "UPDATE messages SET reasoning = 'x' WHERE conversation_id = :conversation",
              conversation=conversation)
    assert await revisions() == (5, 3)
    await raw(uow, "DELETE FROM messages WHERE conversation_id = :conversation", conversation=other)
    assert await revisions() == (5, 5)
    async with uow() as tx:  # a conversation's own update leaves its revision alone
        found = await tx.conversations.get(conversation)
        assert found is not None and found.revision == 5
        found.title, found.revision = "renamed", 0
        await tx.conversations.update(found)
    assert await revisions() == (5, 5)


async def test_two_turns_of_one_worker_at_once_in_one_conversation_cache_nothing_stale(uow: SqlUnitOfWork) -> None:
    clock, alice, conversation = await alice_and_conversation(uow)
    slow = [TextDelta("fine "), Pause(0.05), TextDelta("thanks"), Usage(3, 100), Finish("stop")]
    worker = Worker(uow, ScriptedProvider(list(ANSWER), list(slow), list(slow), list(ANSWER)), clock)
    await worker.turn(alice, conversation, "first")

    await asyncio.gather(worker.turn(alice, conversation, "a"), worker.turn(alice, conversation, "b"))

    assert await worker.turn(alice, conversation, "after") == 1  # each saw the other's writes: neither cached
    assert await worker.cache_is_the_database(conversation)
