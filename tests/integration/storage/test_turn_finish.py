"""TurnRepo.finish, the chat turn's end, on both databases: on PostgreSQL one statement (a metered
key's turn and SQLite: the statements one by one), with the same outcome either way — and nothing
written when it fails."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    TokenUsage,
    text_parts,
)
from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.quotas import Quota, Settlement, StoredHold, UsageEntry
from switchboard.core.domain.users import ApiKey, Role, Scope
from switchboard.core.ports.storage import Tx

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HELD = 500


async def _turn_in_flight(uow: SqlUnitOfWork, hold_tokens: int = HELD, key_id: str | None = None) -> Message:
    """A user with 10,000 tokens, a conversation with a question and a streaming answer holding
    HELD of them (the stored hold `hold_tokens`)."""
    async with uow() as tx:
        user = await tx.users.add("finisher", None, None, Role.USER)
        await tx.quotas.ensure(user.id, 10_000, False)
        if key_id is not None:
            await tx.keys.add(ApiKey(key_id, user.id, "k", "sk-fin", "h" + key_id, frozenset({Scope.CHAT}), NOW,
                                    token_quota=1000))
            assert await tx.quotas.reserve_key(key_id, HELD, 1) == HELD
        await tx.conversations.add(Conversation(id="c_fin", user_id=user.id, title="t", settings=ConversationSettings(),
                                                created_at=NOW,
                                                updated_at=NOW))
        await tx.messages.add(Message(id=0, conversation_id="c_fin", role="user", parts=text_parts("hi"),
                                      status=MessageStatus.COMPLETED, created_at=NOW, updated_at=NOW))
        answer = await tx.messages.add(Message(id=0, conversation_id="c_fin", role="assistant", parts=[],
                                               status=MessageStatus.STREAMING, created_at=NOW, updated_at=NOW,
                                               model="m", worker_id="wrk_1"))
        assert (await tx.quotas.reserve(user.id, HELD, 1)).tokens == HELD
        await tx.holds.add(StoredHold("hold_1", "wrk_1", user.id, hold_tokens, key_id, answer.id))
    return answer


def _finished(answer: Message, text: str = "the answer ü") -> Message:
    return dataclasses.replace(answer, parts=text_parts(text), status=MessageStatus.COMPLETED, reasoning="hmm",
                               usage=TokenUsage(prompt_tokens=20, completion_tokens=80), updated_at=NOW)


def _settlement(answer: Message, user_id: int, key_id: str | None = None, model: str = "m") -> Settlement:
    entry = UsageEntry(user_id=user_id, tokens_prompt=20, tokens_completion=80, model=model, created_at=NOW,
                       key_id=key_id, conversation_id=answer.conversation_id, message_id=answer.id)
    return Settlement("hold_1", key_id, HELD, entry)


async def _ledger_rows(uow: SqlUnitOfWork, user_id: int) -> int:
    async with uow.read() as tx:
        return sum(row.requests for row in await tx.quotas.usage("user", NOW.replace(year=2000), user_id))


async def _user_id(uow: SqlUnitOfWork) -> int:
    async with uow.read() as tx:
        user = await tx.users.by_username("finisher")
        assert user is not None
        return user.id


async def test_finish_writes_the_answer_settles_the_hold_and_records_the_usage(uow: SqlUnitOfWork) -> None:
    answer = await _turn_in_flight(uow)
    user_id = await _user_id(uow)
    async with uow.read() as tx:
        before = await tx.conversations.revision("c_fin")
    assert before is not None

    revision = await uow.run(lambda tx: tx.turns.finish(_finished(answer), _settlement(answer, user_id)))

    async with uow.read() as tx:
        assert revision == before + 1 == await tx.conversations.revision("c_fin")  # the answer's one write
        stored = await tx.messages.get(answer.id)
        assert await tx.quotas.get(user_id) == Quota(user_id, 10_000, used=100, reserved=0, unlimited=False)
        assert await tx.holds.of_workers(["wrk_1"]) == []
        usage = await tx.quotas.summary(user_id, NOW)
    assert stored == _finished(answer)
    assert usage.total == 100 and await _ledger_rows(uow, user_id) == 1


async def test_finish_takes_only_its_tokens_off_a_larger_stored_hold(uow: SqlUnitOfWork) -> None:
    answer = await _turn_in_flight(uow, hold_tokens=HELD + 300)  # a hold with more than this turn's
    user_id = await _user_id(uow)

    await uow.run(lambda tx: tx.turns.finish(_finished(answer), _settlement(answer, user_id)))

    async with uow.read() as tx:
        assert [h.tokens for h in await tx.holds.of_workers(["wrk_1"])] == [300]


async def test_finish_with_a_metered_key_settles_the_key_too(uow: SqlUnitOfWork) -> None:
    answer = await _turn_in_flight(uow, key_id="key_fin")
    user_id = await _user_id(uow)

    await uow.run(lambda tx: tx.turns.finish(_finished(answer), _settlement(answer, user_id, key_id="key_fin")))

    async with uow.read() as tx:
        key = await tx.keys.get("key_fin")
        assert await tx.quotas.get(user_id) == Quota(user_id, 10_000, used=100, reserved=0, unlimited=False)
    assert key is not None and (key.tokens_used, key.tokens_reserved) == (100, 0)


async def test_a_failed_finish_writes_nothing(uow: SqlUnitOfWork) -> None:
    answer = await _turn_in_flight(uow)
    user_id = await _user_id(uow)
    async with uow.read() as tx:
        revision = await tx.conversations.revision("c_fin")

    async def finish_then_fail(tx: Tx) -> None:
        await tx.messages.get(answer.id)  # a statement first: the finish runs inside the step's transaction
        await tx.turns.finish(_finished(answer), _settlement(answer, user_id))
        raise RuntimeError("the worker failed before its commit")

    # the statement refused (a NUL in the ledger's model), and a step failing after a whole finish
    with pytest.raises(InvalidInput):
        await uow.run(lambda tx: tx.turns.finish(_finished(answer), _settlement(answer, user_id, model="m\x00")))
    with pytest.raises(RuntimeError):
        await uow.run(finish_then_fail)

    async with uow.read() as tx:
        assert await tx.messages.get(answer.id) == answer  # still streaming, empty
        assert await tx.quotas.get(user_id) == Quota(user_id, 10_000, used=0, reserved=HELD, unlimited=False)
        assert [h.tokens for h in await tx.holds.of_workers(["wrk_1"])] == [HELD]
        assert await tx.conversations.revision("c_fin") == revision
    assert await _ledger_rows(uow, user_id) == 0


async def test_finish_of_a_conversation_gone_returns_no_revision(uow: SqlUnitOfWork) -> None:
    answer = await _turn_in_flight(uow)
    user_id = await _user_id(uow)
    async with uow() as tx:
        await tx.conversations.delete("c_fin")

    revision = await uow.run(lambda tx: tx.turns.finish(_finished(answer), _settlement(answer, user_id)))

    async with uow.read() as tx:
        assert await tx.quotas.get(user_id) == Quota(user_id, 10_000, used=100, reserved=0, unlimited=False)
    assert revision is None


async def test_a_finish_run_alone_is_committed_as_it_runs_and_must_be_the_steps_last(uow: SqlUnitOfWork) -> None:
    """On PostgreSQL a step whose first statement is the finish sends it alone, with no BEGIN and
    COMMIT: all of it commits at once (a failure after it cannot take it back), and a statement
    after it in the same step is refused as a bug (it would run outside the finish's transaction)."""
    answer = await _turn_in_flight(uow)
    user_id = await _user_id(uow)

    async def finish_then(tx: Tx, more: bool) -> None:
        await tx.turns.finish(_finished(answer), _settlement(answer, user_id))
        if more:
            await tx.messages.get(answer.id)
        raise ValueError("the step fails after its finish")

    if uow.dialect != "postgresql":  # SQLite: the step is one transaction, as any other
        with pytest.raises(ValueError):
            await uow.run(lambda tx: finish_then(tx, more=False))
        assert await _ledger_rows(uow, user_id) == 0
        return
    with pytest.raises(RuntimeError, match="after the one it said was its only one"):
        await uow.run(lambda tx: finish_then(tx, more=True))
    async with uow.read() as tx:
        assert await tx.messages.get(answer.id) == _finished(answer)  # whole, committed by itself
        assert await tx.quotas.get(user_id) == Quota(user_id, 10_000, used=100, reserved=0, unlimited=False)
    assert await _ledger_rows(uow, user_id) == 1


async def test_a_turns_conversation_is_read_with_its_owner(uow: SqlUnitOfWork) -> None:
    await _turn_in_flight(uow)
    user_id = await _user_id(uow)

    found = await uow.run_read(lambda tx: tx.turns.conversation_and_owner("c_fin"))
    missing = await uow.run_read(lambda tx: tx.turns.conversation_and_owner("c_none"))

    assert found is not None and missing is None
    conversation, owner = found
    async with uow.read() as tx:
        assert conversation == await tx.conversations.get("c_fin")
        assert owner is not None and owner == await tx.users.get(user_id)
