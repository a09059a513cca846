"""A chat turn's start (its rows and its hold; turn_start.py) and its end: the answer's final
state, its hold settled and its usage recorded.

On PostgreSQL, a turn's end is ONE statement (data-modifying CTEs): each statement is a round trip
to the server, and the quota row, locked by the settling UPDATE, stays locked until the transaction
ends. Run one by one, four more round trips (each waiting for the event loop between them) passed
with every other turn of that user queued on the row; at 16 concurrent turns that queue was where
PostgreSQL turns spent their time. A metered API key's turn (two more UPDATEs of the key's row,
whose arithmetic depends on the user's) and SQLite (no round trips: statements run on the writer
thread) take the statements one by one, in the same order.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.conversations import (
    CONVERSATION_COLUMNS,
    SqlConversationRepo,
    SqlMessageRepo,
    conversation_from_row,
    message_values,
)
from switchboard.adapters.storage.prepared import Prepared, run
from switchboard.adapters.storage.quotas import SETTLE_QUOTA, SqlQuotaRepo, entry_values
from switchboard.adapters.storage.tables import conversations, holds, messages, usage_ledger, users
from switchboard.adapters.storage.turn_start import start_in_one
from switchboard.adapters.storage.users import USER_COLUMNS, user_from_row
from switchboard.adapters.storage.values import codec_for
from switchboard.adapters.storage.workers import SqlHoldRepo
from switchboard.core.domain.conversations import Conversation, Message
from switchboard.core.domain.quotas import Grant, Settlement, StoredHold
from switchboard.core.domain.users import User

# what MessageRepo.update writes: all but the id, the conversation and the creation time
_ANSWER_KEYS = [column.name for column in messages.c if column.name not in ("id", "conversation_id", "created_at")]
_LEDGER_KEYS = ("user_id", "key_id", "conversation_id", "message_id", "model", "tokens_prompt", "tokens_completion",
                "source", "estimated", "created_at")


def _finish_statement() -> Any:
    """WITH answer AS (UPDATE messages ...), settled AS (UPDATE quotas ...), dropped AS (DELETE the
    hold), shrunk AS (UPDATE the hold: a part of it), recorded AS (INSERT INTO usage_ledger)
    SELECT the conversation's revision. PostgreSQL runs every data-modifying CTE to completion
    whether the SELECT reads it or not, all in the statement's own snapshot: the revision read is
    the one before the answer's UPDATE, whose trigger bumps it once more (counted here)."""
    tokens = bindparam("b_reserved", type_=BigInteger())
    answer = (update(messages).where(messages.c.id == bindparam("b_message_id"))
              .values({key: bindparam(f"m_{key}", type_=messages.c[key].type) for key in _ANSWER_KEYS})
              .returning(messages.c.id).cte("answer"))
    settled = SETTLE_QUOTA.returning(SETTLE_QUOTA.table.c.user_id).cte("settled")  # type: ignore[attr-defined]
    dropped = delete(holds).where(holds.c.id == bindparam("b_hold_id"), holds.c.tokens <= tokens).returning(
        holds.c.id).cte("dropped")
    shrunk = update(holds).where(holds.c.id == bindparam("b_hold_id"), holds.c.tokens > tokens).values(
        tokens=holds.c.tokens - tokens).returning(holds.c.id).cte("shrunk")
    recorded = insert(usage_ledger).values(
        {key: bindparam(f"l_{key}", type_=usage_ledger.c[key].type) for key in _LEDGER_KEYS}
    ).returning(usage_ledger.c.id).cte("recorded")
    written = select(func.count()).select_from(answer).scalar_subquery()
    return (select(conversations.c.revision + written)
            .where(conversations.c.id == bindparam("b_conversation_id"))
            .add_cte(answer, settled, dropped, shrunk, recorded))


_FINISH = Prepared(_finish_statement())


# the conversation a turn goes on and its owner's row, read together (one round trip less)
_CONVERSATION_AND_OWNER = Prepared(
    select(*CONVERSATION_COLUMNS, *USER_COLUMNS)
    .select_from(conversations.outerjoin(users, users.c.id == conversations.c.user_id))
    .where(conversations.c.id == bindparam("b_id")))


class SqlTurnRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def conversation_and_owner(self, conversation_id: str) -> tuple[Conversation, User | None] | None:
        rows, _count = await run(self._connection, _CONVERSATION_AND_OWNER, {"b_id": conversation_id})
        if not rows:
            return None
        row, codec, split = tuple(rows[0]), codec_for(self._connection), len(CONVERSATION_COLUMNS)
        owner = user_from_row(row[split:], codec) if row[split] is not None else None
        return conversation_from_row(row, codec), owner

    async def start(
        self, question: Message, answer: Message, conversation: Conversation, hold: StoredHold, minimum: int,
    ) -> tuple[Message, Message, Grant]:
        if hold.tokens <= 0:
            return question, answer, Grant(0)
        if self._connection.dialect.name == "postgresql" and hold.key_id is None:
            return await start_in_one(self._connection, question, answer, conversation, hold, minimum)
        connection = self._connection
        repo = SqlMessageRepo(connection)
        question, answer = await repo.add(question), await repo.add(answer)
        await SqlConversationRepo(connection).touch(conversation.id, conversation.updated_at, conversation.title)
        holds_repo = SqlHoldRepo(connection)
        await holds_repo.add(dataclasses.replace(hold, message_id=answer.id))
        grant = await SqlQuotaRepo(connection).reserve(hold.user_id, hold.tokens, minimum)
        if 0 < grant.tokens < hold.tokens:  # granted less than wanted: the stored hold says what is held
            await holds_repo.release(hold.id, hold.tokens - grant.tokens)
        return question, answer, grant

    async def finish(self, answer: Message, settlement: Settlement) -> int | None:
        if self._connection.dialect.name == "postgresql" and settlement.key_id is None:
            return await self._finish_in_one(answer, settlement)
        connection, spent = self._connection, settlement.spent
        await SqlMessageRepo(connection).update(answer)
        quotas = SqlQuotaRepo(connection)
        await quotas.settle(settlement.entry.user_id, settlement.tokens, spent)
        if settlement.key_id is not None:
            await quotas.settle_key(settlement.key_id, settlement.tokens)
        if settlement.hold_id and settlement.tokens:
            await SqlHoldRepo(connection).release(settlement.hold_id, settlement.tokens)
        await quotas.record(settlement.entry)
        return await SqlConversationRepo(connection).revision(answer.conversation_id)

    async def _finish_in_one(self, answer: Message, settlement: Settlement) -> int | None:
        codec = codec_for(self._connection)
        written = message_values(answer, codec)
        values = {f"m_{key}": written[key] for key in _ANSWER_KEYS}
        values.update({f"l_{key}": value for key, value in entry_values(settlement.entry, codec).items()})
        values.update({
            "b_message_id": answer.id, "b_conversation_id": answer.conversation_id,
            "b_user_id": settlement.entry.user_id, "b_reserved": settlement.tokens, "b_spent": settlement.spent,
            # no stored hold, or nothing to give back: no hold row matches
            "b_hold_id": settlement.hold_id if settlement.tokens else "",
        })
        rows, _count = await run(self._connection, _FINISH, values, lone=True)
        return int(rows[0][0]) if rows else None
