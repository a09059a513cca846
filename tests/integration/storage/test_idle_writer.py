"""SQLite's writer lends its connection to the event loop's thread when it is idle (sqlite_seat):
a lone step runs there, committed before its caller goes on; a burst of steps still goes to the
writer thread to commit together; a database locked by another process never blocks the loop."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, event, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.engine import create_sqlite_step_engine
from switchboard.adapters.storage.sqlite_threads import SHARED_HOLD_SECONDS, StepThreads
from switchboard.core.domain.errors import InvalidInput

NUMBERS = Table("numbers", MetaData(), Column("n", Integer, primary_key=True))
REQUEST = contextvars.ContextVar[str]("request", default="none")

Step = Callable[[AsyncConnection], Awaitable[str]]


@pytest.fixture
def database(tmp_path: Path) -> tuple[Path, Engine]:
    path = tmp_path / "idle.db"
    engine = create_sqlite_step_engine(f"sqlite:///{path}")
    assert engine is not None
    # the writer waits this long for another process's lock (the event loop's attempt never does)
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 3000"))
    NUMBERS.create(engine)
    return path, engine


@pytest.fixture
async def threads(database: tuple[Path, Engine]) -> AsyncIterator[StepThreads]:
    step_threads = StepThreads(database[1], lambda connection: connection, writer=True)
    yield step_threads
    await step_threads.close()
    database[1].dispose()


def add(n: int, *, fail: bool = False) -> Step:
    """Inserts n; says on which thread it ran and what the caller's context held."""
    async def step(connection: AsyncConnection) -> str:
        await connection.execute(insert(NUMBERS), {"n": n})
        if fail:
            raise InvalidInput("refused after a write")
        request = REQUEST.get()
        REQUEST.set("set by the step")  # must not reach the caller
        return f"{threading.current_thread().name} {request}"
    return step


def stored(path: Path) -> list[int]:
    """What another connection sees: committed rows only."""
    with sqlite3.connect(path) as other:
        return [n for (n,) in other.execute("SELECT n FROM numbers ORDER BY n")]


async def test_a_lone_step_runs_on_the_callers_thread_committed_before_it_returns(
        threads: StepThreads, database: tuple[Path, Engine]) -> None:
    first = await threads.submit(add(1))  # the writer opens its connection (nothing to borrow yet)
    assert first.startswith("switchboard-sqlite-writer-0")
    await asyncio.sleep(0)
    REQUEST.set("request 2")
    assert await threads.submit(add(2)) == "MainThread request 2"
    assert REQUEST.get() == "request 2"  # the step ran in a copy of the caller's context
    assert stored(database[0]) == [1, 2]


async def test_a_failing_step_on_the_callers_thread_stores_nothing_and_the_next_one_commits(
        threads: StepThreads, database: tuple[Path, Engine]) -> None:
    await threads.submit(add(1))
    await asyncio.sleep(0)
    with pytest.raises(InvalidInput):
        await threads.submit(add(2, fail=True))
    await asyncio.sleep(0)
    assert (await threads.submit(add(3))).startswith("MainThread")
    assert stored(database[0]) == [1, 3]


async def test_steps_of_one_loop_turn_go_to_the_writer_but_the_first_and_all_commit(
        threads: StepThreads, database: tuple[Path, Engine]) -> None:
    await threads.submit(add(0))
    await asyncio.sleep(0)
    ran = await asyncio.gather(*(threads.submit(add(n, fail=n == 5)) for n in range(1, 9)), return_exceptions=True)
    where = [outcome.split()[0] if isinstance(outcome, str) else "failed" for outcome in ran]
    assert where[0] == "MainThread"
    assert where[1:] == ["switchboard-sqlite-writer-0"] * 3 + ["failed"] + ["switchboard-sqlite-writer-0"] * 3
    assert stored(database[0]) == [0, 1, 2, 3, 4, 6, 7, 8]
    # concurrency seen: the next steps go to the writer for a while, then run here again
    assert (await threads.submit(add(9))).startswith("switchboard-sqlite-writer-0")
    await asyncio.sleep(SHARED_HOLD_SECONDS)
    assert (await threads.submit(add(10))).startswith("MainThread")


async def test_a_database_locked_elsewhere_never_blocks_the_loop_the_writer_waits_for_it(
        threads: StepThreads, database: tuple[Path, Engine]) -> None:
    await threads.submit(add(1))
    await asyncio.sleep(0)
    holder = sqlite3.connect(database[0], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        # released by the loop: had the step waited for the lock on the loop's thread, this would
        # never run, and the step would fail as busy after the writer's 3 s
        asyncio.get_running_loop().call_later(0.2, holder.execute, "ROLLBACK")
        assert (await threads.submit(add(2))).startswith("switchboard-sqlite-writer-0")
    finally:
        holder.close()
    await asyncio.sleep(SHARED_HOLD_SECONDS)
    assert (await threads.submit(add(3))).startswith("MainThread")  # lent again
    assert stored(database[0]) == [1, 2, 3]


async def test_the_wal_is_checkpointed_by_the_writer_thread_never_in_a_commit_on_the_loop(
        database: tuple[Path, Engine], tmp_path: Path) -> None:
    # SQLite's autocheckpoint would copy the WAL into the database file (and sync it) inside a
    # COMMIT, which here may be on the event loop's thread
    path, engine = database
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the table in the database file itself
    threads = StepThreads(engine, lambda connection: connection, writer=True, checkpoint_every=3)

    def in_the_file() -> list[int]:
        """The rows in the database file alone (a copy of it without its WAL)."""
        copy = tmp_path / "copy.db"
        copy.write_bytes(path.read_bytes())
        with sqlite3.connect(copy) as alone:
            return [n for (n,) in alone.execute("SELECT n FROM numbers ORDER BY n")]

    try:
        where = [(await threads.submit(add(1))).split()[0]]
        for n in (2, 3):
            await asyncio.sleep(0)
            where.append((await threads.submit(add(n))).split()[0])
        assert in_the_file() == []  # three commits, none checkpointed
        await asyncio.sleep(0)
        where.append((await threads.submit(add(4))).split()[0])  # due: to the writer, which checkpoints
        assert in_the_file() == [1, 2, 3, 4]
        await asyncio.sleep(SHARED_HOLD_SECONDS)
        where.append((await threads.submit(add(5))).split()[0])
    finally:
        await threads.close()
    writer = "switchboard-sqlite-writer-0"
    assert where == [writer, "MainThread", "MainThread", writer, "MainThread"]
    assert stored(path) == [1, 2, 3, 4, 5]
