"""UnitOfWork.run / run_read on both databases: a step is one transaction; steps committed together
(SQLite's group commit) fail alone; a step may await nothing but its repositories."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.adapters.storage.engine import create_sqlite_step_engine
from switchboard.adapters.storage.sqlite_threads import StepThreads
from switchboard.adapters.storage.steps import as_async
from switchboard.core.domain.errors import Conflict, InvalidInput, StorageBusy
from switchboard.core.domain.users import Role, User
from switchboard.core.ports.storage import Tx


async def test_steps_at_once_commit_together_and_a_failing_one_rolls_back_alone(uow: SqlUnitOfWork) -> None:
    async def register(tx: Tx, name: str) -> User:
        user = await tx.users.add(name, None, None, Role.USER)
        if name.endswith("7"):
            await tx.users.add(name, None, None, Role.USER)  # taken: Conflict, after a first write
        return user

    outcomes = await asyncio.gather(*(uow.run(lambda tx, n=f"user{i}": register(tx, n)) for i in range(20)),
                                    return_exceptions=True)

    failed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)]
    assert failed == [7, 17] and all(isinstance(outcomes[i], Conflict) for i in failed)

    async def names(tx: Tx) -> list[str]:
        users, _total = await tx.users.list(1, 100)
        return sorted(u.username for u in users)

    assert await uow.run_read(names) == sorted(f"user{i}" for i in range(20) if i not in (7, 17))


async def test_a_step_that_awaits_anything_else_is_refused_and_writes_nothing(uow: SqlUnitOfWork) -> None:
    async def sleeps(tx: Tx) -> None:
        await tx.users.add("sleepy", None, None, Role.USER)
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its repositories"):
        await uow.run(sleeps)
    assert await uow.run_read(lambda tx: tx.users.by_username("sleepy")) is None


async def test_a_nul_character_is_refused_inside_a_step_as_everywhere(uow: SqlUnitOfWork) -> None:
    with pytest.raises(InvalidInput):
        await uow.run(lambda tx: tx.users.add("nul\x00name", None, None, Role.USER))
    assert await uow.run(lambda tx: tx.users.add("fine", None, None, Role.USER)) is not None


async def test_a_select_read_only_in_part_holds_up_no_savepoint_and_no_commit(tmp_path: Path) -> None:
    # DirectConnection copies only RETURNING rows (SQLite refuses to end a savepoint while a write
    # has rows left); a SELECT's cursor stays open, which must not stop the batch's commit
    engine = create_engine(f"sqlite:///{tmp_path / 'steps.db'}")
    numbers = Table("numbers", MetaData(), Column("n", Integer, primary_key=True))
    numbers.create(engine)
    with engine.connect() as connection, connection.begin():
        direct = as_async(connection)
        await direct.execute(insert(numbers), [{"n": n} for n in range(5)])
        with connection.begin_nested():
            result = await direct.execute(select(numbers.c.n).order_by(numbers.c.n))
            assert result.fetchone() == (0,)  # four rows left unread
            await direct.execute(insert(numbers), {"n": 5})
        inserted = await direct.execute(insert(numbers).returning(numbers.c.n), {"n": 6})
        with connection.begin_nested():
            pass
        assert inserted.scalar_one() == 6
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(numbers)) == 7
    engine.dispose()


async def test_a_writer_step_that_finds_the_database_locked_fails_as_busy_and_the_next_one_commits(
        tmp_path: Path) -> None:
    # SQLite's step threads send BEGIN IMMEDIATE on the sqlite3 connection themselves (only the
    # connection's first comes from SQLAlchemy's begin event): both ways a lock held elsewhere
    # must still become StorageBusy, and the thread must go on with the next step
    path = tmp_path / "busy.db"
    engine = create_sqlite_step_engine(f"sqlite:///{path}")
    assert engine is not None
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 10"))
    numbers = Table("numbers", MetaData(), Column("n", Integer, primary_key=True))
    numbers.create(engine)
    threads = StepThreads(engine, lambda connection: connection, writer=True)
    holder = sqlite3.connect(path, isolation_level=None)

    def add(n: int) -> Callable[[AsyncConnection], Awaitable[None]]:
        async def step(connection: AsyncConnection) -> None:
            await connection.execute(insert(numbers), {"n": n})
        return step

    try:
        for n in (1, 2):  # 1: the thread's first transaction (its connection's); 2: one of its own
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageBusy):
                await threads.submit(add(-n))
            holder.execute("ROLLBACK")
            await threads.submit(add(n))
    finally:
        holder.close()
        await threads.close()
    with engine.connect() as connection:
        assert connection.execute(select(numbers.c.n).order_by(numbers.c.n)).scalars().all() == [1, 2]
    engine.dispose()
