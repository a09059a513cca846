"""Worker heartbeats and the holds each worker keeps in the database (services.quotas.recovery)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.engine import upsert_into
from switchboard.adapters.storage.prepared import Prepared, run
from switchboard.adapters.storage.tables import holds, workers
from switchboard.adapters.storage.values import codec_for
from switchboard.core.domain.quotas import StoredHold


def _hold_upsert(dialect: str) -> Any:
    """Insert a hold; the arithmetic happens in the database: a lease's top-ups add to its row."""
    statement = upsert_into(dialect, holds)
    return statement.on_conflict_do_update(
        index_elements=["id"], set_={"tokens": holds.c.tokens + statement.excluded.tokens})


# a chat turn's statements, run as prepared statements (prepared.py)
_ADD_HOLD = Prepared(_hold_upsert, keys=("id", "worker_id", "user_id", "key_id", "tokens", "message_id", "created_at"))
# the usual release (a turn's or a call's whole hold) is one DELETE
_DROP_WHOLE_HOLD = Prepared(delete(holds).where(
    holds.c.id == bindparam("b_id"), holds.c.tokens <= bindparam("b_tokens", type_=BigInteger())))


class SqlHoldRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, hold: StoredHold) -> None:
        await run(self._connection, _ADD_HOLD, {
            "id": hold.id, "worker_id": hold.worker_id, "user_id": hold.user_id, "key_id": hold.key_id,
            "tokens": hold.tokens, "message_id": hold.message_id,
            "created_at": codec_for(self._connection).time_in(datetime.now(UTC)),
        })

    async def release(self, hold_id: str, tokens: int) -> None:
        _rows, gone = await run(self._connection, _DROP_WHOLE_HOLD, {"b_id": hold_id, "b_tokens": tokens})
        if not gone:  # a part of it
            taken = literal(tokens, BigInteger())
            await self._connection.execute(
                update(holds).where(holds.c.id == hold_id).values(tokens=holds.c.tokens - taken))

    async def attach(self, hold_id: str, message_id: int) -> None:
        await self._connection.execute(update(holds).where(holds.c.id == hold_id).values(message_id=message_id))

    async def of_workers(self, worker_ids: list[str]) -> list[StoredHold]:
        if not worker_ids:
            return []
        rows = (await self._connection.execute(
            select(holds).where(holds.c.worker_id.in_(worker_ids)).order_by(holds.c.id))).mappings().all()
        return [StoredHold(row["id"], row["worker_id"], int(row["user_id"]), int(row["tokens"]), row["key_id"],
                           row["message_id"]) for row in rows]

    async def drop(self, worker_ids: list[str]) -> None:
        if worker_ids:
            await self._connection.execute(delete(holds).where(holds.c.worker_id.in_(worker_ids)))


class SqlWorkerRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def beat(self, worker_id: str, host: str, pid: int, at: datetime) -> None:
        statement = upsert_into(self._connection, workers).values(
            id=worker_id, host=host[:255], pid=pid, started_at=at, last_seen=at)
        statement = statement.on_conflict_do_update(index_elements=["id"], set_={"last_seen": at})
        await self._connection.execute(statement)

    async def silent_since(self, before: datetime) -> list[str]:
        rows = await self._connection.execute(select(workers.c.id).where(workers.c.last_seen < before))
        return [str(worker_id) for worker_id in rows.scalars()]

    async def claim(self, worker_ids: list[str], before: datetime) -> list[str]:
        if not worker_ids:
            return []
        # DELETE ... RETURNING under the row locks: a worker claimed by a concurrent sweep is gone
        # (PostgreSQL re-checks the WHERE after waiting; SQLite runs one writer at a time)
        statement = (delete(workers).where(workers.c.id.in_(worker_ids), workers.c.last_seen < before)
                     .returning(workers.c.id))
        return [str(worker_id) for worker_id in (await self._connection.execute(statement)).scalars()]
