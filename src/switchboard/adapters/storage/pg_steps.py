"""Running a whole storage step (UnitOfWork.run / run_read) on PostgreSQL, on asyncpg itself.

Through SQLAlchemy, every statement of a step went through `run_sync`'s greenlet, the asyncpg
adapter's DB-API cursor (a lock, its own prepared-statement cache, the status parsed by a regular
expression) and back: about twice the CPU asyncpg spends on the statement itself, a dozen times
per chat turn. Here the step's coroutine runs on the event loop and a turn's prepared statements
(prepared.run) go to the asyncpg connection at once, in a transaction begun before the step's
first statement and ended with it (or none at all for a step that is one statement: `lone`).
The connection still comes from SQLAlchemy's pool, checked out with isolation level AUTOCOMMIT so
that the adapter starts no transaction of its own: a Core statement of the step (`execute`, off
the turn's usual path) runs through SQLAlchemy, inside asyncpg's transaction.

A step may await only its repositories, as on SQLite, where it runs on a thread without an event
loop (steps.drive): `checked` refuses anything else here too, so a step that works on one
database works on the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard.adapters.storage.engine import refuse_nul

T = TypeVar("T")


class DriverConnection:
    """The part of AsyncConnection the repositories use in a step (execute, scalar, begin_nested,
    dialect), plus `run_sql` on the asyncpg connection; anything more fails loudly, as with
    DirectConnection."""

    def __init__(self, connection: AsyncConnection, driver: Any) -> None:
        self._connection = connection
        self._driver = driver  # asyncpg.Connection, in the transaction DriverSteps began
        self.dialect = connection.dialect
        # the adapter's DB-API module: its exception classes, and how it maps asyncpg's onto them
        self._dbapi: Any = connection.dialect.loaded_dbapi
        self.awaiting = False  # a repository's await on the database is under way (see `checked`)
        self._transaction: Any = None  # asyncpg's, begun before the step's first statement
        self._lone = False  # the step's one statement ran (and committed) in a transaction of its own

    async def run_sql(
        self, sql: str, parameters: tuple[Any, ...], returns_rows: bool, lone: bool = False, reads: bool = False,
    ) -> tuple[list[Any], int]:
        """A statement with its values: its rows and its rowcount, errors raised as SQLAlchemy's.
        asyncpg prepares it once per connection (its statement cache) and reuses it.

        `lone`: the statement is the whole step's writing (its caller knows the step runs nothing
        after it). Run first, it needs no BEGIN and COMMIT: PostgreSQL runs a statement sent alone
        as a transaction of its own, all of it or nothing, committed before the answer comes back.
        Two round trips fewer, and the rows it locks (a user's quota row) are held for the
        statement alone, not for a COMMIT's round trip too.

        `reads`: a plain SELECT (no FOR UPDATE). Before the step's first write it runs with no
        transaction either: at READ COMMITTED (PostgreSQL's default; the steps assume it) each
        statement of a transaction reads its own snapshot anyway, so a read inside one sees just
        what it sees alone. That is what lets a turn's start (its reads, then its one write) go
        without BEGIN and COMMIT."""
        refuse_nul(parameters)
        self.awaiting = True
        try:
            if self._transaction is None and not self._lone and (lone or reads):
                self._lone = lone
            else:
                await self._begin()
            if returns_rows:
                rows = await self._driver.fetch(sql, *parameters)
                return rows, len(rows)
            status = await self._driver.execute(sql, *parameters)
            return [], _rowcount(status)
        except Exception as exc:
            raise self._as_dbapi_error(sql, parameters, exc) from exc
        finally:
            self.awaiting = False

    async def execute(self, statement: Any, parameters: Any = None) -> Result[Any]:
        self.awaiting = True
        try:
            await self._begin()
            return await self._connection.execute(statement, parameters)
        finally:
            self.awaiting = False

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        self.awaiting = True
        try:
            await self._begin()
            return await self._connection.scalar(statement, parameters)
        finally:
            self.awaiting = False

    async def _begin(self) -> None:
        if self._lone:
            raise RuntimeError("a storage step ran a statement after the one it said was its only one")
        if self._transaction is None:
            transaction = self._driver.transaction()
            await transaction.start()
            self._transaction = transaction

    async def end(self, commit: bool) -> None:
        """The step's transaction committed (the step returned) or rolled back (it raised), if
        one was begun: a step that ran no statement, or a lone one, has none."""
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await (transaction.commit() if commit else transaction.rollback())

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[Any]:
        """A savepoint (users.execute_or_conflict), as AsyncConnection.begin_nested."""
        self.awaiting = True
        try:
            await self._begin()
            savepoint = await self._connection.begin_nested().start()
        finally:
            self.awaiting = False
        try:
            yield savepoint
        except BaseException:
            self.awaiting = True
            try:
                await savepoint.rollback()
            finally:
                self.awaiting = False
            raise
        self.awaiting = True
        try:
            await savepoint.commit()
        finally:
            self.awaiting = False

    def _as_dbapi_error(self, sql: str, parameters: tuple[Any, ...], exc: Exception) -> Exception:
        """asyncpg's error as SQLAlchemy raises it through the adapter (IntegrityError for a
        constraint, and so on), so callers see the same exceptions either way."""
        dbapi = self._dbapi
        if not isinstance(exc, dbapi.Error):
            translate: dict[type, type] = getattr(dbapi, "_asyncpg_error_translate", {})
            kind = next((translate[c] for c in type(exc).__mro__ if c in translate), None)
            if kind is None:
                return exc  # not the database's (a bug, a cancellation): as it is
            translated = kind(exc.args[0] if exc.args else str(exc), exc)
            translated.__cause__ = exc
            exc = translated
        return DBAPIError.instance(sql, parameters, exc, dbapi.Error)


def _rowcount(status: str) -> int:
    # "UPDATE 3", "DELETE 0", "INSERT 0 1": the count is the last word
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else -1


class DriverSteps:
    """Steps on pooled connections, each in one transaction: committed when the step returns,
    rolled back when it raises (or is cancelled).

    A connection taken from SQLAlchemy's pool is kept here after its step, up to `keep` of them,
    for the next one: checking one out and in through the async engine (three greenlet hops, the
    isolation level set and reset) cost about as much as three of a step's statements.

    First come, first served: while a step waits in the pool's queue (every connection out), no
    step takes a kept one and a step's connection goes back to the pool, where the waiting steps
    get them in turn. Before, a step in the queue got a connection only once the kept list was
    full: under 64 streams newcomers took the kept ones all the time and it waited seconds (TTFT
    p99 ~5 s on PostgreSQL, bench/README)."""

    def __init__(self, engine: AsyncEngine, tx_factory: Callable[[AsyncConnection], Any], keep: int) -> None:
        self._engine = engine
        self._tx_factory = tx_factory
        self._keep = keep
        self._idle: list[tuple[AsyncConnection, Any]] = []
        self._queued = 0  # steps waiting for a connection from the pool

    async def run(self, step: Callable[[Any], Awaitable[T]]) -> T:
        connection, driver = self._idle.pop() if self._idle and not self._queued else await self._connect()
        try:
            direct = DriverConnection(connection, driver)
            try:
                result = await checked(step(self._tx_factory(cast(AsyncConnection, direct))), direct)
            except BaseException:
                await direct.end(commit=False)
                raise
            await direct.end(commit=True)
            return result
        finally:
            await self._put_back(connection, driver)

    async def _put_back(self, connection: AsyncConnection, driver: Any) -> None:
        """Kept for the next step when its transaction ended (committed or rolled back, the step
        failed or not); back to the pool when one is kept already or it was cut short in its
        rollback (the pool resets it), invalidated when the server went away."""
        if driver.is_closed():
            await connection.invalidate()
        elif driver.is_in_transaction() or len(self._idle) >= self._keep or self._queued:
            await connection.close()  # (to the pool: to the step first in its queue, if any)
        else:
            if connection.in_transaction():  # SQLAlchemy's own, begun by a Core statement (sent no BEGIN)
                await connection.rollback()
            self._idle.append((connection, driver))

    async def _connect(self) -> tuple[AsyncConnection, Any]:
        self._queued += 1
        try:
            idle, self._idle = self._idle, []
            for kept, _driver in idle:  # kept ones first: to the pool, for the steps queued there
                await kept.close()
            connection = await self._engine.connect()
        finally:
            self._queued -= 1
        try:
            return connection, (await connection.get_raw_connection()).driver_connection
        except BaseException:
            await connection.close()
            raise

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _driver in idle:
            await connection.close()


def checked(step: Awaitable[T], connection: DriverConnection) -> Awaitable[T]:
    return _Checked(step, connection)


class _Checked:
    """Awaits a step, refusing it the moment it suspends anywhere but in a repository's database
    call (steps.drive's rule on SQLite, where nothing else can be awaited)."""

    def __init__(self, step: Awaitable[Any], connection: DriverConnection) -> None:
        self._step = step.__await__()
        self._connection = connection

    def __await__(self) -> Generator[Any, Any, Any]:
        step, sent, thrown = self._step, None, None
        while True:
            try:
                waiting = step.throw(thrown) if thrown is not None else step.send(sent)
            except StopIteration as done:
                return done.value
            if not self._connection.awaiting:
                step.close()
                raise RuntimeError("a storage step awaited something other than its repositories")
            try:
                sent, thrown = (yield waiting), None
            except BaseException as exc:  # (a cancellation): into the step, which decides
                sent, thrown = None, exc
