"""A storage step's two kinds of statement on both databases: the turn's prepared statements (run on
the driver directly: sqlite3's cursor, or asyncpg itself on PostgreSQL, pg_steps) and SQLAlchemy
Core statements of the same step. They share one transaction, fail with SQLAlchemy's exceptions,
and a connection kept for the next step after a failure commits that step for real."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.conversations import Conversation, ConversationSettings, Message, MessageStatus, text_parts
from switchboard.core.domain.users import Role
from switchboard.core.ports.storage import Tx

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _conversation(user_id: int, conversation_id: str) -> Conversation:
    return Conversation(id=conversation_id, user_id=user_id, title="A chat", settings=ConversationSettings(),
                        created_at=T0, updated_at=T0)


def _question(conversation_id: str, text: str) -> Message:
    return Message(id=0, conversation_id=conversation_id, role="user", parts=text_parts(text),
                   status=MessageStatus.COMPLETED, created_at=T0, updated_at=T0)


async def test_a_constraint_a_prepared_statement_breaks_is_sqlalchemys_integrity_error(uow: SqlUnitOfWork) -> None:
    with pytest.raises(IntegrityError):  # no such conversation: the foreign key refuses the row
        await uow.run(lambda tx: tx.messages.add(_question("conv_missing", "hello")))
    owner = await uow.run(lambda tx: tx.users.add("owner", None, None, Role.USER))
    assert owner.id  # the next step on the (kept) connection works


async def test_core_and_prepared_statements_of_a_step_share_its_transaction(
    uow: SqlUnitOfWork, database_url: str,
) -> None:
    owner = await uow.run(lambda tx: tx.users.add("owner", None, None, Role.USER))

    async def both(tx: Tx, conversation_id: str, fail: bool) -> Message | None:
        await tx.conversations.add(_conversation(owner.id, conversation_id))  # Core
        added = await tx.messages.add(_question(conversation_id, "hello"))  # prepared
        seen = await tx.messages.get(added.id)  # Core again: sees the prepared statement's row
        if fail:
            raise ValueError("the step fails after its writes")
        return seen

    for attempt in range(3):  # each time on a connection the failed step used before
        with pytest.raises(ValueError):
            await uow.run(lambda tx, a=attempt: both(tx, f"conv_failed{a}", fail=True))
        seen = await uow.run(lambda tx, a=attempt: both(tx, f"conv_kept{a}", fail=False))
        assert seen is not None and seen.text == "hello"

    other = SqlUnitOfWork(database_url)  # other connections: they see only what was committed
    try:
        for attempt in range(3):
            assert await other.run_read(lambda tx, a=attempt: tx.conversations.get(f"conv_failed{a}")) is None
            kept = await other.run_read(lambda tx, a=attempt: tx.messages.list(f"conv_kept{a}", 10))
            assert [m.text for m in kept] == ["hello"]
    finally:
        await other.close()


async def test_writes_after_a_steps_first_reads_still_stand_or_fall_together(uow: SqlUnitOfWork) -> None:
    """On PostgreSQL the plain reads that open a step run before its transaction (pg_steps:
    `reads`); the writes after them are still one transaction, rolled back whole on failure."""
    owner = await uow.run(lambda tx: tx.users.add("owner", None, None, Role.USER))
    await uow.run(lambda tx: tx.conversations.add(_conversation(owner.id, "conv_reads")))

    async def read_then_write(tx: Tx, fail: bool) -> None:
        assert await tx.conversations.get("conv_reads") is not None  # a prepared plain read first
        await tx.messages.add(_question("conv_reads", "one"))
        await tx.messages.add(_question("conv_reads", "two"))
        if fail:
            raise ValueError("the step fails after its writes")

    with pytest.raises(ValueError):
        await uow.run(lambda tx: read_then_write(tx, fail=True))
    assert await uow.run_read(lambda tx: tx.messages.list("conv_reads", 10)) == []
    await uow.run(lambda tx: read_then_write(tx, fail=False))
    assert [m.text for m in await uow.run_read(lambda tx: tx.messages.list("conv_reads", 10))] == ["one", "two"]
