"""A storage step whose caller is cancelled (a flush stopped by the turn's end, a client gone, the
server stopping) must leave the database and the connection pool whole: the next steps commit for
real. On PostgreSQL a step cut short inside asyncpg once left a pooled connection with its
transaction open; every later step on it only released a savepoint inside that transaction, so
its rows were never committed and its row locks stalled every turn behind it."""

from __future__ import annotations

import asyncio
import contextlib

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.users import Role
from switchboard.core.ports.storage import Tx


async def test_steps_cancelled_at_any_point_leave_the_next_steps_committed(
    uow: SqlUnitOfWork, database_url: str,
) -> None:
    owner = await uow.run(lambda tx: tx.users.add("owner", None, None, Role.USER))

    async def read_then_write(tx: Tx, name: str) -> None:
        await tx.users.get(owner.id)  # a statement on the driver directly (prepared.py)
        await tx.users.add(name, None, None, Role.USER)

    for attempt in range(30):
        cut = asyncio.ensure_future(uow.run(lambda tx, n=f"cut{attempt}": read_then_write(tx, n)))
        for _ in range(attempt % 10):  # cancelled at a different point of its way each time
            await asyncio.sleep(0)
        cut.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await cut
        await uow.run(lambda tx, n=f"kept{attempt}": tx.users.add(n, None, None, Role.USER))

    other = SqlUnitOfWork(database_url)  # other connections: they see only what was committed
    try:
        users, _total = await other.run_read(lambda tx: tx.users.list(1, 200))
    finally:
        await other.close()
    names = {user.username for user in users}
    assert {f"kept{attempt}" for attempt in range(30)} <= names
    # a cancelled step either landed whole or not at all: never half (its user is there only if committed)
    assert names <= {"owner", *(f"kept{a}" for a in range(30)), *(f"cut{a}" for a in range(30))}
