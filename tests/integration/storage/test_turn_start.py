"""How a chat turn starts, on both databases: in ONE storage step (read, plan, write) when its plan
needs no I/O, else in two (the model's listing or a stored file awaited between the read and the
write). Either way the rules hold: the question is durable before the provider is called, a
refusal leaves no row, the quota is never overspent, retries and edits supersede as before."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import pytest

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.chat import ChatRequest, ProviderCall
from switchboard.core.domain.conversations import MessageStatus, Part, text_parts
from switchboard.core.domain.errors import DomainError, Forbidden, InvalidInput, QuotaExceeded, UnknownModel
from switchboard.core.domain.events import Finish, TextDelta, Usage
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import Tx
from switchboard.core.services.chat.engine import ChatEngine, EngineSettings
from switchboard.core.services.media.files import FileService
from switchboard.core.services.quotas.allowances import QuotaService
from switchboard.core.services.tools.runner import ToolPolicy, ToolRunner
from tests.integration.storage.test_turn_durability import (
    DEAD,
    POLICY,
    TURN_TOKENS,
    _drain,
    enrol,
    new_conversation,
    state,
)
from tests.support.fakes import FixedClock, InMemoryBlobStore, InMemoryCatalog, ScriptedProvider, WordCounter

T = TypeVar("T")
ANSWER: list[Any] = [TextDelta("fine thanks"), Usage(3, 100), Finish("stop")]


class StepLog:
    """The real unit of work, noting each step the turn takes ("run" or "run_read")."""

    def __init__(self, real: SqlUnitOfWork) -> None:
        self.real = real
        self.steps: list[str] = []

    def __call__(self) -> AbstractAsyncContextManager[Tx]:
        return self.real()

    def read(self) -> AbstractAsyncContextManager[Tx]:
        return self.real.read()

    async def run(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        self.steps.append("run")
        return await self.real.run(step)

    async def run_read(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        self.steps.append("run_read")
        return await self.real.run_read(step)

    async def ping(self) -> bool:
        return await self.real.ping()


@dataclass
class Setup:
    uow: SqlUnitOfWork
    log: StepLog
    engine: ChatEngine
    catalog: InMemoryCatalog
    provider: ScriptedProvider
    files: FileService
    alice: Principal
    conversation_id: str
    # the rows of the conversation as the provider call found them, one list per call
    seen: list[list[tuple[str, MessageStatus]]] = field(default_factory=list)

    async def start(self, request: ChatRequest, who: Principal | None = None) -> list[str]:
        """Starts and finishes a turn; the steps its start took."""
        self.log.steps.clear()
        turn = await self.engine.start(request, who or self.alice)
        steps = list(self.log.steps)
        await _drain(turn.events())
        return steps

    async def rows(self) -> list[tuple[str, str, bool]]:
        return [(m.role, m.text, m.is_deleted) for m in (await state(self.uow, self.alice.user_id,
                                                                      self.conversation_id))[1]]


async def setup(uow: SqlUnitOfWork, turns: int = 4, allowance_turns: int = 10) -> Setup:
    clock = FixedClock()
    alice = await enrol(uow, clock, allowance=allowance_turns * TURN_TOKENS)
    conversation_id = await new_conversation(uow, clock, alice)
    log = StepLog(uow)
    seen: list[list[tuple[str, MessageStatus]]] = []

    async def look(_call: ProviderCall) -> None:
        seen.append([(m.role, m.status) for m in (await state(uow, alice.user_id, conversation_id))[1]
                     if not m.is_deleted])

    provider = ScriptedProvider(*[[look, *ANSWER]] * turns)
    catalog = InMemoryCatalog({"m": provider})
    files = FileService(log, InMemoryBlobStore(), clock, 1_000_000)
    engine = ChatEngine(log, catalog, QuotaService(log, POLICY, DEAD), ToolRunner(None, ToolPolicy()), files,
                        WordCounter(), clock, EngineSettings(flush_seconds=60.0))
    return Setup(uow, log, engine, catalog, provider, files, alice, conversation_id, seen)


def ask(conversation_id: str, text: str = "hello there", **request: Any) -> ChatRequest:
    return ChatRequest(conversation_id=conversation_id, parts=text_parts(text) if text else [], **request)


async def test_a_plain_turn_is_one_step_with_its_question_stored_before_the_provider(uow: SqlUnitOfWork) -> None:
    s = await setup(uow)

    assert await s.start(ask(s.conversation_id)) == ["run"]

    assert s.seen == [[("user", MessageStatus.COMPLETED), ("assistant", MessageStatus.STREAMING)]]
    assert s.catalog.resolved == 0  # the catalog's fresh listing answered, nothing was awaited
    assert await s.rows() == [("user", "hello there", False), ("assistant", "fine thanks", False)]
    quota = (await state(uow, s.alice.user_id, s.conversation_id))[0]
    assert (quota.used, quota.reserved) == (TURN_TOKENS, 0)


@pytest.mark.parametrize("cold", [False, True], ids=["one step", "two steps"])
async def test_refusals_leave_no_row_either_way(uow: SqlUnitOfWork, cold: bool) -> None:
    s = await setup(uow, allowance_turns=0)  # no tokens at all: the hold is refused
    s.catalog.cold = cold
    limited = replace(s.alice, allowed_models=("other",), via="api_key")
    refusals: list[tuple[ChatRequest, Principal, type[DomainError]]] = [
        (ask(s.conversation_id), limited, Forbidden),
        (ask(s.conversation_id, model="nope"), s.alice, UnknownModel),
        (ask(s.conversation_id, "", regenerate=True), s.alice, InvalidInput),  # no earlier question
        (ask(s.conversation_id), s.alice, QuotaExceeded),  # refused by the hold, in the write
    ]
    for request, who, refused in refusals:
        with pytest.raises(refused):
            await s.engine.start(request, who)
    assert await s.rows() == [] and s.provider.calls == []
    quota = (await state(uow, s.alice.user_id, s.conversation_id))[0]
    assert (quota.used, quota.reserved) == (0, 0)


@pytest.mark.parametrize("cold", [False, True], ids=["one step", "two steps"])
async def test_retry_and_edit_supersede_the_old_rows_either_way(uow: SqlUnitOfWork, cold: bool) -> None:
    s = await setup(uow)
    await s.start(ask(s.conversation_id, "first"))
    s.catalog.cold = cold
    steps = ["run", "run"] if cold else ["run"]

    assert await s.start(ask(s.conversation_id, "", regenerate=True)) == steps
    rows = await s.rows()
    assert rows == [("user", "first", False), ("assistant", "fine thanks", True), ("assistant", "fine thanks", False)]
    last_question = (await state(uow, s.alice.user_id, s.conversation_id))[1][0]

    with pytest.raises(InvalidInput):  # only the last question can be edited
        await s.engine.start(ask(s.conversation_id, "again", edit_message_id=last_question.id + 99), s.alice)
    assert await s.rows() == rows

    assert await s.start(ask(s.conversation_id, "edited", edit_message_id=last_question.id)) == steps
    assert [r for r in await s.rows() if not r[2]] == [("user", "edited", False), ("assistant", "fine thanks", False)]
    assert [c.messages[-1]["content"] for c in s.provider.calls] == ["first", "first", "edited"]


async def test_a_model_the_catalog_must_list_first_takes_two_steps(uow: SqlUnitOfWork) -> None:
    s = await setup(uow)
    s.catalog.cold = True  # resolving would list an upstream's models: not inside the storage step

    assert await s.start(ask(s.conversation_id)) == ["run", "run"]  # the first only read

    assert s.catalog.resolved == 1
    assert s.seen == [[("user", MessageStatus.COMPLETED), ("assistant", MessageStatus.STREAMING)]]
    assert await s.rows() == [("user", "hello there", False), ("assistant", "fine thanks", False)]


async def test_a_stored_file_to_inline_takes_two_steps_now_and_while_it_is_in_the_history(
    uow: SqlUnitOfWork,
) -> None:
    s = await setup(uow)
    notes = await s.files.store(s.alice.user_id, "notes.txt", "text/plain", b"the notes")
    with_file = ChatRequest(conversation_id=s.conversation_id, parts=[
        Part(type="text", text="read this"), Part(type="file", file_id=notes.id, name="notes.txt")])

    assert await s.start(with_file) == ["run_read", "run"]  # the new message has it: no one-step try
    assert await s.start(ask(s.conversation_id)) == ["run", "run"]  # found in the history it read

    assert s.seen[0] == [("user", MessageStatus.COMPLETED), ("assistant", MessageStatus.STREAMING)]
    for call in s.provider.calls:  # both times the provider got the file's text inline
        assert "the notes" in call.messages[0]["content"][1]["text"]
    assert s.provider.calls[1].messages[-1] == {"role": "user", "content": "hello there"}
