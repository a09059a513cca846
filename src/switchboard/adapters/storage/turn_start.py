"""A chat turn's start on PostgreSQL: its rows written by ONE statement, sent alone.

The user's question, the streaming answer, the conversation's new title and time, the turn's
stored hold and the reservation on the user's quota row: five statements one by one, inside a
BEGIN and a COMMIT, were seven round trips, each costing the server a message to parse, a
wake-up and an executor start, and the quota row stayed locked for the COMMIT's round trip with
every other turn of the user queued on it. As one statement of data-modifying CTEs sent with no
BEGIN (pg_steps: `lone`) it is all of it or nothing, committed before its answer comes back.

The reservation decides: every other part reads its RETURNING, so a refused turn (no row
returned) writes nothing at all. The two messages are one INSERT whose rows come in order (the
question first: ids grow with insertion, and the history is read by id).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, bindparam, func, insert, select, true, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.conversations import message_values
from switchboard.adapters.storage.prepared import Prepared, run
from switchboard.adapters.storage.quotas import RESERVE_QUOTA, reserve_values
from switchboard.adapters.storage.tables import conversations, holds, messages
from switchboard.adapters.storage.values import codec_for
from switchboard.core.domain.conversations import Conversation, Message
from switchboard.core.domain.quotas import Grant, StoredHold

# what message_values gives: every column but the id
_MESSAGE_KEYS = [column.name for column in messages.c if column.name != "id"]
_HOLD_KEYS = ("id", "worker_id", "user_id", "key_id", "tokens", "message_id", "created_at")


def _start_statement() -> Any:
    reserved = RESERVE_QUOTA.cte("reserved")

    def row(prefix: str) -> Any:
        return select(*[bindparam(f"{prefix}_{key}", type_=messages.c[key].type).label(key)
                        for key in _MESSAGE_KEYS]).select_from(reserved)

    added = (insert(messages).from_select(_MESSAGE_KEYS, union_all(row("q"), row("a")))
             .returning(messages.c.id, messages.c.role).cte("added"))
    held = insert(holds).from_select(list(_HOLD_KEYS), select(
        bindparam("h_id", type_=String()), bindparam("h_worker_id", type_=String()),
        bindparam("h_user_id", type_=holds.c.user_id.type), bindparam("h_key_id", type_=String()),
        reserved.c.last_grant, added.c.id, bindparam("h_created_at", type_=holds.c.created_at.type),
    ).select_from(added.join(reserved, true())).where(added.c.role == "assistant")).returning(holds.c.id).cte("held")
    touched = (update(conversations)
               .where(conversations.c.id == bindparam("t_id"), select(reserved.c.last_grant).exists())
               .values(title=func.coalesce(bindparam("t_title", type_=String()), conversations.c.title),
                       updated_at=bindparam("t_updated_at", type_=conversations.c.updated_at.type))
               .returning(conversations.c.id).cte("touched"))
    return (select(added.c.id, added.c.role, reserved.c.last_grant, reserved.c.unlimited)
            .select_from(added.join(reserved, true())).add_cte(held, touched))


_START = Prepared(_start_statement())


async def start_in_one(
    connection: AsyncConnection, question: Message, answer: Message, conversation: Conversation, hold: StoredHold,
    minimum: int,
) -> tuple[Message, Message, Grant]:
    """TurnRepo.start as one statement; a refusal (Grant 0) wrote nothing."""
    codec = codec_for(connection)
    values: dict[str, Any] = reserve_values(hold.user_id, hold.tokens, minimum)
    for prefix, message in (("q", question), ("a", answer)):
        values.update({f"{prefix}_{key}": value for key, value in message_values(message, codec).items()})
    values.update({
        "h_id": hold.id, "h_worker_id": hold.worker_id, "h_user_id": hold.user_id, "h_key_id": hold.key_id,
        "h_created_at": codec.time_in(datetime.now(UTC)),
        "t_id": conversation.id, "t_title": conversation.title, "t_updated_at": codec.time_in(conversation.updated_at),
    })
    rows, _count = await run(connection, _START, values, lone=True)
    if not rows:
        return question, answer, Grant(0)
    ids = {role: id_ for id_, role, _grant, _unlimited in rows}
    _id, _role, granted, unlimited = rows[0]
    return question.with_id(ids["user"]), answer.with_id(ids["assistant"]), Grant(int(granted), bool(unlimited))
