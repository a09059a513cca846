"""The unit of work: one database transaction exposing every repository (core.ports.storage)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard.adapters.storage.conversations import SqlConversationRepo, SqlMessageRepo
from switchboard.adapters.storage.engine import READ_ONLY_OPTION, create_engine_for, create_sqlite_step_engine
from switchboard.adapters.storage.migrate import schema_revision
from switchboard.adapters.storage.misc import SqlFileRepo, SqlSettingsRepo
from switchboard.adapters.storage.pg_steps import DriverSteps
from switchboard.adapters.storage.platforms import SqlIdentityRepo, SqlProfileRepo, SqlShareRepo
from switchboard.adapters.storage.quotas import SqlQuotaRepo
from switchboard.adapters.storage.sqlite_threads import StepThreads
from switchboard.adapters.storage.steps import busy_or_same, run_step
from switchboard.adapters.storage.turns import SqlTurnRepo
from switchboard.adapters.storage.users import SqlApiKeyRepo, SqlRevokedTokenRepo, SqlUserRepo
from switchboard.adapters.storage.workers import SqlHoldRepo, SqlWorkerRepo
from switchboard.core.ports.storage import Tx

T = TypeVar("T")

# Threads reading steps beside the SQLite writer (WAL snapshots; the statements release the GIL).
SQLITE_READERS = 2

# PostgreSQL connections kept for the next step (pg_steps.DriverSteps), of the engine's pool (15).
POSTGRES_KEPT_CONNECTIONS = 4

# A readiness probe must answer quickly even when the database hangs.
PING_TIMEOUT_SECONDS = 5.0


class SqlTx:
    """Every repository, all bound to the same connection and therefore the same transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.users = SqlUserRepo(connection)
        self.keys = SqlApiKeyRepo(connection)
        self.revoked = SqlRevokedTokenRepo(connection)
        self.conversations = SqlConversationRepo(connection)
        self.messages = SqlMessageRepo(connection)
        self.quotas = SqlQuotaRepo(connection)
        self.holds = SqlHoldRepo(connection)
        self.turns = SqlTurnRepo(connection)
        self.workers = SqlWorkerRepo(connection)
        self.files = SqlFileRepo(connection)
        self.settings = SqlSettingsRepo(connection)
        self.identities = SqlIdentityRepo(connection)
        self.profiles = SqlProfileRepo(connection)
        self.shares = SqlShareRepo(connection)


class SqlUnitOfWork:
    """`async with uow() as tx:` commits on a clean exit and rolls back on an exception.

    Accepts `sqlite:///path`, `sqlite+aiosqlite:///path`, `postgresql://...` or
    `postgresql+asyncpg://...`. The schema must already be migrated (see migrate.upgrade_database).
    """

    def __init__(self, database_url: str, *, echo: bool = False) -> None:
        self._engine: AsyncEngine = create_engine_for(database_url, echo=echo)
        self._step_engine = create_sqlite_step_engine(database_url)
        self._writer: StepThreads | None = None
        self._readers: StepThreads | None = None
        self._in_flight: set[asyncio.Future[Any]] = set()  # PostgreSQL steps whose callers may have left
        if self._step_engine is not None:
            self._writer = StepThreads(self._step_engine, SqlTx, writer=True)
            self._readers = StepThreads(self._step_engine, SqlTx, writer=False, threads=SQLITE_READERS)
        # PostgreSQL's steps: the same pool, its connections lent without the adapter's own
        # transaction (pg_steps begins and ends asyncpg's)
        self._driver_steps: DriverSteps | None = None
        if self._engine.dialect.name == "postgresql":
            autocommit = self._engine.execution_options(isolation_level="AUTOCOMMIT")
            self._driver_steps = DriverSteps(autocommit, SqlTx, keep=POSTGRES_KEPT_CONNECTIONS)

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._engine.dialect.name

    def __call__(self) -> AbstractAsyncContextManager[SqlTx]:
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[SqlTx]:
        try:
            async with self._engine.begin() as connection:
                yield SqlTx(connection)
        except OperationalError as exc:
            # SQLite's "database is locked" after busy_timeout: say so (503, retry) instead of a 500
            raise busy_or_same(exc) from exc

    async def run(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        """One transaction on the storage side (see UnitOfWork.run): SQLite's writer thread commits
        it in a batch with the other queued steps (or, the writer idle, the caller's thread runs it
        on the writer's connection: sqlite_seat); on PostgreSQL its statements go to asyncpg
        directly (pg_steps). (An in-memory SQLite database, for tests: one `run_sync` on
        aiosqlite's connection.)"""
        if self._writer is not None:
            return cast(T, await self._writer.submit(step))
        if self._driver_steps is not None:
            return await self._uncancellable(self._driver_steps.run(step))
        return await self._uncancellable(self._write_step(step))

    async def run_read(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        """As `run`, for a step that only reads (on SQLite, one of the reader threads)."""
        if self._readers is not None:
            return cast(T, await self._readers.submit(step))
        if self._driver_steps is not None:
            return await self._uncancellable(self._driver_steps.run(step))
        return await self._uncancellable(self._read_step(step))

    async def _write_step(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        try:
            async with self._engine.begin() as connection:
                return cast(T, await connection.run_sync(run_step, step, SqlTx))
        except OperationalError as exc:
            raise busy_or_same(exc) from exc

    async def _read_step(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        async with self._engine.connect() as connection:
            reader = await connection.execution_options(**{READ_ONLY_OPTION: True})
            async with reader.begin():
                return cast(T, await reader.run_sync(run_step, step, SqlTx))

    async def _uncancellable(self, work: Coroutine[Any, Any, T]) -> T:
        """A PostgreSQL step runs to its end even when its caller is cancelled (a stopped flush,
        a client gone, shutdown). Its statements go to the driver directly (prepared.py), past
        SQLAlchemy's handling of a cancelled statement: cut short inside asyncpg, a connection went
        back to the pool with its transaction still open, and the next step's BEGIN and COMMIT
        became a savepoint inside it (rows never committed, locks held until every turn waited).
        As on SQLite's writer, a step once started ends as it would have; the caller just leaves."""
        task = asyncio.ensure_future(work)
        self._in_flight.add(task)
        task.add_done_callback(_forget(self._in_flight))
        return await asyncio.shield(task)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlTx]:
        """A read-only transaction: on SQLite a deferred BEGIN, so it never waits for the write lock."""
        async with self._engine.connect() as connection:
            reader = await connection.execution_options(**{READ_ONLY_OPTION: True})
            async with reader.begin():
                yield SqlTx(reader)

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(PING_TIMEOUT_SECONDS), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any failure means "not ready"; the probe reports, it does not raise
            return False
        return True

    async def schema_is_current(self) -> bool:
        """The database is at the newest migration this code ships (readiness: a worker of an older
        or newer release must not take traffic against it)."""
        try:
            async with asyncio.timeout(PING_TIMEOUT_SECONDS):
                current, newest = await schema_revision(self._engine)
        except Exception:  # as for ping: report, never raise
            return False
        return current == newest

    async def close(self) -> None:
        if self._in_flight:  # steps whose callers left: let them end before the pool goes
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        if self._driver_steps is not None:
            await self._driver_steps.close()
        for threads in (self._writer, self._readers):
            if threads is not None:
                await threads.close()
        if self._step_engine is not None:
            self._step_engine.dispose()
        await self._engine.dispose()


def _forget(in_flight: set[asyncio.Future[Any]]) -> Callable[[asyncio.Future[Any]], None]:
    def done(task: asyncio.Future[Any]) -> None:
        in_flight.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failure whose caller left is not logged as unhandled
    return done
