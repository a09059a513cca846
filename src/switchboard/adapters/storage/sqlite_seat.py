"""One SQLite step thread's connection, and running a write step on the event loop's thread when
the writer has nothing to do (sqlite_threads.StepThreads.submit).

A lone chat turn's step handed to the writer thread pays two thread hand-offs (the queue, then the
wake-up of the event loop) for work that takes a fraction of a millisecond. When nothing is queued
and the writer is not running a batch, the event loop's thread borrows the writer's connection
(under the seat's lock, so the two never use it at once) and runs the step as the writer would
run a batch of one: BEGIN IMMEDIATE, the step, COMMIT, its caller resumed only after the commit.
The event loop must never wait for another process's write lock, so that BEGIN is tried with
busy_timeout 0: if the database is locked, the step goes to the writer thread, which waits for it.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.engine import READ_ONLY_OPTION
from switchboard.adapters.storage.steps import as_async, busy_or_same, drive

Step = Callable[[Any], Awaitable[Any]]
TxFactory = Callable[[AsyncConnection], Any]


class _NotNow:
    """run_here's answer when the step was not run (and nothing was written): queue it instead."""


NOT_NOW = _NotNow()

# The writer's connection does not checkpoint the WAL as it commits: SQLite's autocheckpoint does
# it inside a COMMIT (copying the WAL into the database file, and syncing it), which would then be
# on the event loop's thread. The writer thread does it after a batch, once this many commits (of
# a few pages each for a turn; SQLite's own default is every 1,000 pages) went by.
CHECKPOINT_EVERY_COMMITS = 200


class Seat:
    """A step thread's connection, opened on first use, and the repositories over it (built once
    for the connection's life: they keep no state). `lock` is held while a batch runs on it, and
    while the event loop's thread borrows the writer's."""

    def __init__(self, engine: Engine, tx_factory: TxFactory, *, writer: bool,
                 checkpoint_every: int = CHECKPOINT_EVERY_COMMITS) -> None:
        self._engine = engine
        self._tx_factory = tx_factory
        self._writer = writer
        self._checkpoint_every = checkpoint_every
        self._commits = 0  # since the last checkpoint (the writer's)
        self.lock = threading.Lock()
        self.connection: Connection | None = None
        self.tx: Any = None
        self._busy_timeout_ms = 0  # the connection's own, put back after run_here's attempt to begin

    def open(self) -> tuple[Connection, Any]:
        if self.connection is None:  # (again, after a failure to open it, or after drop_if_broken)
            connection = self._engine.connect()
            if not self._writer:
                connection.execution_options(**{READ_ONLY_OPTION: True})
            # SQLAlchemy's one transaction for the connection's life (see sqlite_threads). Its
            # begin event sends BEGIN [IMMEDIATE], which serves as the first batch's.
            try:
                connection.begin()
                dbapi = connection.connection.dbapi_connection
                assert dbapi is not None
                self._busy_timeout_ms = int(dbapi.execute("PRAGMA busy_timeout").fetchone()[0])
                if self._writer:
                    dbapi.execute("PRAGMA wal_autocheckpoint = 0").close()
            except BaseException:
                connection.close()
                raise
            self.connection, self.tx = connection, self._tx_factory(as_async(connection))
        return self.connection, self.tx

    def drop_if_broken(self) -> None:
        connection = self.connection
        if connection is not None and (connection.invalidated or not connection.in_transaction()):
            self.close()  # SQLAlchemy gave up on it: a new one for the next batch

    def checkpoint_when_due(self) -> None:
        """After each of the writer thread's batches (one commit): copy the WAL into the database
        file once enough commits went by, without waiting for readers (PASSIVE)."""
        self._commits += 1
        if self.connection is None or self._commits < self._checkpoint_every:
            return
        self._commits = 0
        dbapi = self.connection.connection.dbapi_connection
        assert dbapi is not None
        try:
            dbapi.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        except dbapi.Error:
            pass  # the next one copies what this one left (and SQLite's other connections check as usual)

    def close(self) -> None:
        connection, self.connection, self.tx = self.connection, None, None
        if connection is not None:
            connection.close()  # (its rollback finds no transaction open on sqlite3: a no-op)

    def run_here(self, step: Step) -> Any:
        """The step as a batch of one, on this thread, now; NOT_NOW if the connection is not open
        yet or the database is locked. Call with `lock` held. Its failure is raised as the writer
        thread's would be (StorageBusy for a busy database), with nothing of it stored."""
        if self.connection is None or self._commits >= self._checkpoint_every:  # (a checkpoint due: the writer's)
            return NOT_NOW
        dbapi = self.connection.connection.dbapi_connection
        if not self._begin_without_waiting(dbapi):
            return NOT_NOW
        try:
            # in a copy of the caller's context, as on the writer thread: what the step sets stays there
            value = run_on(self.tx, step, contextvars.copy_context())
            send(dbapi, "COMMIT")
            self._commits += 1
        except BaseException as exc:
            rollback(dbapi)
            self.drop_if_broken()
            converted = busy_or_same(exc)
            if converted is exc:
                raise
            raise converted from exc
        self.drop_if_broken()
        return value

    def _begin_without_waiting(self, dbapi: Any) -> bool:
        if dbapi is None or dbapi.in_transaction:  # (left open by a failed rollback: the writer sorts it out)
            return False
        try:
            dbapi.execute("PRAGMA busy_timeout = 0").close()
            try:
                dbapi.execute("BEGIN IMMEDIATE").close()
            finally:
                dbapi.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}").close()
        except dbapi.Error as exc:
            rollback(dbapi)
            if "locked" not in str(exc) and "busy" not in str(exc):
                self.close()  # something else: the writer thread opens a new connection, and meets it there
            return False
        return True


def _drive_step(step: Step, tx: Any) -> Any:
    return drive(step(tx))


def run_on(tx: Any, step: Step, context: contextvars.Context) -> Any:
    """A step on a thread's repositories, in its caller's context (the face serving the request,
    its request id: a step that records a metric or logs does it as its caller would)."""
    return context.run(_drive_step, step, tx)


def begin(dbapi: Any, sql: str) -> None:
    if not dbapi.in_transaction:  # (the first batch's was begun by SQLAlchemy's begin event)
        send(dbapi, sql)


def send(dbapi: Any, sql: str) -> None:
    """A statement on the sqlite3 connection, its error raised as SQLAlchemy's (so a busy
    database still becomes StorageBusy)."""
    try:
        dbapi.execute(sql).close()
    except dbapi.Error as exc:  # (sqlite3.Connection.Error is the module's)
        raise DBAPIError.instance(sql, (), exc, dbapi.Error) from exc


def rollback(dbapi: Any) -> None:
    try:
        if dbapi.in_transaction:  # (SQLite may have rolled back on its own, on some errors)
            dbapi.execute("ROLLBACK").close()
    except dbapi.Error:
        pass  # the connection is left as SQLite left it; the callers hear of the first error
