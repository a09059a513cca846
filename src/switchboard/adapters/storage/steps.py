"""Running a whole storage step (UnitOfWork.run / run_read) on a plain synchronous connection.

The repositories are written against AsyncConnection (`await connection.execute(...)`), and every
such await on aiosqlite is a hand-off to its worker thread and back: about five per statement.
A step instead runs where the connection lives (the SQLite writer or reader thread, or inside one
`run_sync` on PostgreSQL): `DirectConnection` gives the repositories the same two methods, but
they run the statement at once, so the step's coroutine never suspends and `drive` can run it to
the end without an event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Connection, Result
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.engine import refuse_nul
from switchboard.core.domain.errors import StorageBusy

T = TypeVar("T")


class DirectConnection:
    """The part of AsyncConnection the repositories use, over a synchronous Connection (a new
    repository needing more fails loudly here, in tests/integration/storage/test_steps.py's way)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.dialect = connection.dialect
        # the driver's own connection (sqlite3's, or SQLAlchemy's asyncpg adapter, whose calls
        # run inside this run_sync), for the turn's prepared statements (prepared.run)
        self._dbapi = connection.connection.dbapi_connection
        self._dbapi_error: type[Exception] = connection.dialect.loaded_dbapi.Error

    def run_sql(self, sql: str, parameters: tuple[Any, ...]) -> tuple[list[Any], int]:
        """A statement on the DB-API cursor, in this connection's transaction: its rows (all of
        them, so no statement stays open past a savepoint) and its rowcount. Checked and its
        errors raised as SQLAlchemy's, as if it had gone through `execute`."""
        refuse_nul(parameters)
        assert self._dbapi is not None
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(sql, parameters)
            return (cursor.fetchall() if cursor.description is not None else []), cursor.rowcount
        except self._dbapi_error as exc:
            raise DBAPIError.instance(sql, parameters, exc, self._dbapi_error) from exc
        finally:
            cursor.close()

    async def execute(self, statement: Any, parameters: Any = None) -> Result[Any]:
        result = self._connection.execute(statement, parameters)
        # A RETURNING (or text) statement's rows are fetched at once, as AsyncConnection's are:
        # SQLite refuses to release a savepoint (or commit) while a write still has rows to give.
        # A SELECT's open cursor does not hold them up, and the step reads its rows before it
        # ends (`drive` runs it to the end here), so they are not copied: copying them (freeze)
        # was half of the cost of reading a turn's history.
        if result.returns_rows and not getattr(statement, "is_select", False):
            return result.freeze()()
        return result

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        return self._connection.scalar(statement, parameters)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[Any]:
        """A savepoint (users.execute_or_conflict), as AsyncConnection.begin_nested."""
        with self._connection.begin_nested() as savepoint:
            yield savepoint


def as_async(connection: Connection) -> AsyncConnection:
    # the repositories only use execute, scalar, begin_nested and dialect, which DirectConnection has
    return cast(AsyncConnection, DirectConnection(connection))


def drive(step: Awaitable[T]) -> T:
    """Run a step's coroutine to its end; it may await only the repositories it was given."""
    coroutine = cast(Coroutine[Any, Any, T], step)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("a storage step awaited something other than its repositories")


def run_step(
    connection: Connection, step: Callable[[Any], Awaitable[T]], tx_factory: Callable[[AsyncConnection], Any]
) -> T:
    return drive(step(tx_factory(as_async(connection))))


def busy_or_same(exc: BaseException) -> BaseException:
    """SQLite's "database is locked" after busy_timeout becomes StorageBusy (503, retry), as in
    the unit of work's own transactions."""
    if isinstance(exc, OperationalError) and ("locked" in str(exc.orig) or "busy" in str(exc.orig)):
        busy = StorageBusy("the database is busy; try again in a moment")
        busy.__cause__ = exc
        return busy
    return exc
