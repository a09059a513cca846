"""SQLite's group commit: one writer thread per database file, and reader threads beside it.

SQLite lets one writer in at a time anyway. Instead of every request taking the write lock for a
transaction of its own (with a hop to aiosqlite's thread per statement), the writer thread takes
whatever steps are queued when it wakes (several concurrent chat turns' writes), runs them all in
one transaction — each in a SAVEPOINT of its own, so a step that fails rolls back alone — and
commits once. Only then is each step's caller resumed: a step's rows are durable before its caller
goes on (the user's message before the provider is called). Readers run steps in deferred
transactions, which in WAL mode read a snapshot beside the writer and never wait for it.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.engine import READ_ONLY_OPTION
from switchboard.adapters.storage.steps import as_async, busy_or_same, drive

# A batch bigger than this waits for the next commit: one huge transaction would hold every
# caller in it until the last step ran.
MAX_BATCH = 64

Step = Callable[[Any], Awaitable[Any]]
TxFactory = Callable[[AsyncConnection], Any]


@dataclass(slots=True, eq=False)
class _Job:
    step: Step
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    # the caller's context variables (the face serving the request, its request id): a step that
    # records a metric or logs from this thread does it as its caller would
    context: contextvars.Context
    skip: bool = field(default=False)  # its caller was cancelled before the thread took it


_Outcome = tuple[_Job, Any, BaseException | None]


class StepThreads:
    """`threads` threads sharing one queue, each with a connection of its own; started on first use."""

    def __init__(self, engine: Engine, tx_factory: TxFactory, *, writer: bool, threads: int = 1) -> None:
        self._engine = engine
        self._tx_factory = tx_factory
        self._writer = writer
        self._count = threads
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def submit(self, step: Step) -> Any:
        self._start()
        loop = asyncio.get_running_loop()
        job = _Job(step, loop, loop.create_future(), contextvars.copy_context())
        self._queue.put(job)
        try:
            # No shield: a cancelled caller cancels the future, which _settle then leaves alone.
            return await job.future
        except asyncio.CancelledError:
            # not taken yet: it never runs. Taken: its outcome stands (committed or not), as when
            # a process dies right after a commit; nobody is left to read it.
            job.skip = True
            raise

    def _start(self) -> None:
        if self._threads:
            return
        with self._lock:
            if self._threads:
                return
            kind = "writer" if self._writer else "reader"
            for number in range(self._count):
                thread = threading.Thread(target=self._serve, name=f"switchboard-sqlite-{kind}-{number}", daemon=True)
                thread.start()
                self._threads.append(thread)

    async def close(self) -> None:
        threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            await asyncio.to_thread(thread.join)

    def _serve(self) -> None:
        connection: Connection | None = None
        tx: Any = None  # the repositories over `connection`, built once for its life (they keep no state)
        try:
            while True:
                batch, stop = self._next_batch()
                if batch:
                    try:
                        if connection is None:  # (again, after a failure to open it)
                            connection = self._connect()
                            tx = self._tx_factory(as_async(connection))
                        run_batch = self._commit if self._writer else self._read
                        outcomes = run_batch(connection, tx, batch)
                    except BaseException as exc:  # whatever it is, the callers hear of it; the thread goes on
                        outcomes = [(job, None, exc) for job in batch]
                    if connection is not None and (connection.invalidated or not connection.in_transaction()):
                        connection.close()  # SQLAlchemy gave up on it: a new one for the next batch
                        connection = None
                    _deliver(outcomes)
                if stop:
                    return
        finally:
            if connection is not None:
                connection.close()  # (its rollback finds no transaction open on sqlite3: a no-op)

    def _connect(self) -> Connection:
        connection = self._engine.connect()
        if not self._writer:
            connection.execution_options(**{READ_ONLY_OPTION: True})
        # SQLAlchemy's one transaction for the connection's life (see the module's docstring).
        # Its begin event sends BEGIN [IMMEDIATE], which serves as the first batch's.
        try:
            connection.begin()
        except BaseException:
            connection.close()
            raise
        return connection

    def _next_batch(self) -> tuple[list[_Job], bool]:
        """What is queued now (waiting for the first), and whether the thread is asked to stop."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                queued = self._queue.get_nowait()
            except queue.Empty:
                break
            if queued is None:
                return [job for job in batch if not job.skip], True
            batch.append(queued)
        return [job for job in batch if not job.skip], False

    def _commit(self, connection: Connection, tx: Any, batch: list[_Job]) -> list[_Outcome]:
        dbapi = connection.connection.dbapi_connection
        outcomes: list[_Outcome] = []
        try:
            _begin(dbapi, "BEGIN IMMEDIATE")
            if len(batch) == 1:  # alone in its transaction: no savepoint needed
                outcomes.append((batch[0], _run(tx, batch[0]), None))
            else:
                for job in batch:
                    _send(dbapi, "SAVEPOINT step")
                    try:
                        value = _run(tx, job)
                    except BaseException as exc:
                        _send(dbapi, "ROLLBACK TO step")
                        _send(dbapi, "RELEASE step")
                        outcomes.append((job, None, exc))
                    else:
                        _send(dbapi, "RELEASE step")
                        outcomes.append((job, value, None))
            _send(dbapi, "COMMIT")
        except BaseException as exc:
            # the commit failed (or the lone step did): nothing of this batch is stored
            _rollback(dbapi)
            return [(job, None, exc) for job in batch]
        return outcomes

    def _read(self, connection: Connection, tx: Any, batch: list[_Job]) -> list[_Outcome]:
        dbapi = connection.connection.dbapi_connection
        outcomes: list[_Outcome] = []
        try:
            _begin(dbapi, "BEGIN")  # deferred: a snapshot, no write lock
            for job in batch:
                try:
                    outcomes.append((job, _run(tx, job), None))
                except BaseException as exc:
                    outcomes.append((job, None, exc))
            _send(dbapi, "COMMIT")
        except BaseException as exc:
            _rollback(dbapi)
            return [(job, None, exc) for job in batch]
        return outcomes


def _begin(dbapi: Any, sql: str) -> None:
    if not dbapi.in_transaction:  # (the first batch's was begun by SQLAlchemy's begin event)
        _send(dbapi, sql)


def _send(dbapi: Any, sql: str) -> None:
    """A statement on the sqlite3 connection, its error raised as SQLAlchemy's (so a busy
    database still becomes StorageBusy)."""
    try:
        dbapi.execute(sql).close()
    except dbapi.Error as exc:  # (sqlite3.Connection.Error is the module's)
        raise DBAPIError.instance(sql, (), exc, dbapi.Error) from exc


def _rollback(dbapi: Any) -> None:
    try:
        if dbapi.in_transaction:  # (SQLite may have rolled back on its own, on some errors)
            dbapi.execute("ROLLBACK").close()
    except dbapi.Error:
        pass  # the connection is left as SQLite left it; the callers hear of the first error


def _run(tx: Any, job: _Job) -> Any:
    return job.context.run(_drive_step, job.step, tx)


def _drive_step(step: Step, tx: Any) -> Any:
    return drive(step(tx))


def _deliver(outcomes: list[_Outcome]) -> None:
    """One wake-up per event loop for the whole batch, not one per step."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].loop, []).append(outcome)
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # that loop has closed: nobody is waiting any more
            pass


def _settle(outcomes: list[_Outcome]) -> None:
    for job, value, exc in outcomes:
        if job.future.done():
            continue
        if exc is None:
            job.future.set_result(value)
        else:
            job.future.set_exception(busy_or_same(exc))
