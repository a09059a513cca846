"""SQLite's group commit: one writer thread per database file, and reader threads beside it.

SQLite lets one writer in at a time anyway. Instead of every request taking the write lock for a
transaction of its own (with a hop to aiosqlite's thread per statement), the writer thread takes
whatever steps are queued when it wakes (several concurrent chat turns' writes), runs them all in
one transaction — each in a SAVEPOINT of its own, so a step that fails rolls back alone — and
commits once. Only then is each step's caller resumed: a step's rows are durable before its caller
goes on (the user's message before the provider is called). Readers run steps in deferred
transactions, which in WAL mode read a snapshot beside the writer and never wait for it.
When the writer is idle, a write step runs on its caller's thread instead, by the same rules
(sqlite_seat): a lone turn pays no thread hand-offs, concurrent ones still commit in groups.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from switchboard.adapters.storage.sqlite_seat import (
    CHECKPOINT_EVERY_COMMITS,
    NOT_NOW,
    Seat,
    Step,
    TxFactory,
    begin,
    rollback,
    run_on,
    send,
)
from switchboard.adapters.storage.steps import busy_or_same

# A batch bigger than this waits for the next commit: one huge transaction would hold every
# caller in it until the last step ran.
MAX_BATCH = 64

# After a step had to go to the writer (others on their way, or a burst), steps keep going there
# for this long: under concurrency the writer's group commit and its own core beat borrowing its
# connection for one step at a time on the event loop's thread, which is then the busiest.
SHARED_HOLD_SECONDS = 0.05


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
    """`threads` threads sharing one queue, each with a connection of its own; started on first use.
    A writer's step runs on the caller's thread instead when the writer is idle (sqlite_seat)."""

    def __init__(self, engine: Engine, tx_factory: TxFactory, *, writer: bool, threads: int = 1,
                 checkpoint_every: int = CHECKPOINT_EVERY_COMMITS) -> None:
        self._engine = engine
        self._checkpoint_every = checkpoint_every
        self._tx_factory = tx_factory
        self._writer = writer
        self._count = threads
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._writer_seat: Seat | None = None  # the writer thread's, while it runs
        self._lent_in: asyncio.AbstractEventLoop | None = None  # a step ran here in this loop's current turn
        self._waiting = 0  # callers waiting for the threads (counted on the event loop's thread)
        self._shared_until = 0.0  # (loop.time()) no step runs here before then
        self._lock = threading.Lock()

    async def submit(self, step: Step) -> Any:
        loop = asyncio.get_running_loop()
        seat = self._writer_seat
        # Run here only when no other step is on its way (none waited for, none queued, no batch
        # running: the seat's lock free), none ran here yet in this turn of the event loop, and
        # none had to go to the writer lately: concurrent steps, and the steps of a burst (callers
        # resumed together, responses read together), go to the writer, to commit as one.
        if seat is not None and loop.time() >= self._shared_until:
            if (not self._waiting and self._lent_in is not loop and self._queue.empty()
                    and seat.lock.acquire(blocking=False)):
                try:
                    self._lent_in = loop
                    loop.call_soon(self._lend_again)
                    value = seat.run_here(step)
                finally:
                    seat.lock.release()
                if value is not NOT_NOW:
                    return value
            self._shared_until = loop.time() + SHARED_HOLD_SECONDS  # (from the step that met the others)
        self._start()
        job = _Job(step, loop, loop.create_future(), contextvars.copy_context())
        self._queue.put(job)
        self._waiting += 1
        try:
            # No shield: a cancelled caller cancels the future, which _settle then leaves alone.
            return await job.future
        except asyncio.CancelledError:
            # not taken yet: it never runs. Taken: its outcome stands (committed or not), as when
            # a process dies right after a commit; nobody is left to read it.
            job.skip = True
            raise
        finally:
            self._waiting -= 1

    def _lend_again(self) -> None:
        self._lent_in = None

    def _start(self) -> None:
        if self._threads:
            return
        with self._lock:
            if self._threads:
                return
            kind = "writer" if self._writer else "reader"
            for number in range(self._count):
                seat = Seat(self._engine, self._tx_factory, writer=self._writer,
                            checkpoint_every=self._checkpoint_every)
                thread = threading.Thread(target=self._serve, args=(seat,), name=f"switchboard-sqlite-{kind}-{number}",
                                          daemon=True)
                thread.start()
                self._threads.append(thread)
                if self._writer:
                    self._writer_seat = seat

    async def close(self) -> None:
        threads, self._threads, self._writer_seat = self._threads, [], None
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            await asyncio.to_thread(thread.join)

    def _serve(self, seat: Seat) -> None:
        try:
            while True:
                batch, stop = self._next_batch()
                if batch:
                    with seat.lock:
                        try:
                            connection, tx = seat.open()
                            run_batch = self._commit if self._writer else self._read
                            outcomes = run_batch(connection, tx, batch)
                        except BaseException as exc:  # whatever it is, the callers hear of it; the thread goes on
                            outcomes = [(job, None, exc) for job in batch]
                        seat.drop_if_broken()
                        if self._writer:
                            seat.checkpoint_when_due()
                    _deliver(outcomes)
                if stop:
                    return
        finally:
            with seat.lock:
                seat.close()

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
            begin(dbapi, "BEGIN IMMEDIATE")
            if len(batch) == 1:  # alone in its transaction: no savepoint needed
                outcomes.append((batch[0], run_on(tx, batch[0].step, batch[0].context), None))
            else:
                for job in batch:
                    send(dbapi, "SAVEPOINT step")
                    try:
                        value = run_on(tx, job.step, job.context)
                    except BaseException as exc:
                        send(dbapi, "ROLLBACK TO step")
                        send(dbapi, "RELEASE step")
                        outcomes.append((job, None, exc))
                    else:
                        send(dbapi, "RELEASE step")
                        outcomes.append((job, value, None))
            send(dbapi, "COMMIT")
        except BaseException as exc:
            # the commit failed (or the lone step did): nothing of this batch is stored
            rollback(dbapi)
            return [(job, None, exc) for job in batch]
        return outcomes

    def _read(self, connection: Connection, tx: Any, batch: list[_Job]) -> list[_Outcome]:
        dbapi = connection.connection.dbapi_connection
        outcomes: list[_Outcome] = []
        try:
            begin(dbapi, "BEGIN")  # deferred: a snapshot, no write lock
            for job in batch:
                try:
                    outcomes.append((job, run_on(tx, job.step, job.context), None))
                except BaseException as exc:
                    outcomes.append((job, None, exc))
            send(dbapi, "COMMIT")
        except BaseException as exc:
            rollback(dbapi)
            return [(job, None, exc) for job in batch]
        return outcomes


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
