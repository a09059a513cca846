"""Building an AsyncEngine for a database URL, with the SQLite settings that make it safe to share.

Used by the unit of work and by migrations, so both talk to SQLite the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from switchboard.adapters.storage.values import json_loads
from switchboard.core.domain.errors import InvalidInput

# Execution option marking a connection whose transaction only reads (see SqlUnitOfWork.read).
READ_ONLY_OPTION = "switchboard_read_only"

# PostgreSQL connections per worker, all kept open once opened. As many as SQLAlchemy's default
# (5 kept + 10 more while busy), but none closed when it comes back: under 16 turns at a time the
# "10 more" were opened and closed a few times a second, and each new connection costs the server
# a backend start (fork, authentication, catalog caches) and asyncpg its type introspection and
# every statement prepared again: more of the server's CPU than the turns' own statements.
POSTGRES_POOL_SIZE = 15

# How long a SQLite connection waits for another writer before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}


def async_url(database_url: str) -> URL:
    """Accept the plain `sqlite:///...` / `postgresql://...` spellings people write in config."""
    url = make_url(database_url)
    driver = _ASYNC_DRIVERS.get(url.drivername)
    return url.set(drivername=driver) if driver else url


def create_engine_for(database_url: str, *, echo: bool = False) -> AsyncEngine:
    url = async_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine = create_async_engine(url, echo=echo, json_deserializer=json_loads, pool_size=POSTGRES_POOL_SIZE,
                                     max_overflow=0)
        event.listen(engine.sync_engine, "before_cursor_execute", _refuse_nul)
        return engine
    _create_parent_directory(url.database)
    engine = create_async_engine(url, echo=echo, json_deserializer=json_loads)
    event.listen(engine.sync_engine, "before_cursor_execute", _refuse_nul)
    event.listen(engine.sync_engine, "connect", _prepare_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def create_sqlite_step_engine(database_url: str) -> Engine | None:
    """A synchronous engine on the same SQLite file, for the threads that run whole storage steps
    (sqlite_threads); None for PostgreSQL and for in-memory databases (each connection would see a
    database of its own)."""
    url = async_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or (
            url.database.startswith("file:")):
        return None
    engine = create_engine(url.set(drivername="sqlite+pysqlite"), json_deserializer=json_loads)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    event.listen(engine, "connect", _prepare_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _refuse_nul(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
    """PostgreSQL cannot store U+0000 in text (the driver fails, which used to be a 500) and SQLite
    would keep it where no other client expects it: the one check for every face and every column,
    refused before the statement runs, so the transaction rolls back whole."""
    for row in parameters if executemany else (parameters,):
        refuse_nul(row.values() if isinstance(row, dict) else row or ())


def refuse_nul(values: Iterable[Any]) -> None:
    """The check itself (also for the prepared statements, which bypass the cursor events)."""
    for value in values:
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput("text must not contain NUL characters (U+0000)")


def _create_parent_directory(database: str | None) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _prepare_sqlite_connection(dbapi_connection: Any, _connection_record: Any) -> None:
    # Take BEGIN away from the sqlite3 driver (it skips it before SELECTs and SAVEPOINTs);
    # _begin_immediate emits it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL, and much faster
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """WAL lets readers go on while one writer commits. The mode is stored in the file, so this
    only does work on a new database."""
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except Exception as exc:
        # Switching needs an exclusive lock and does not wait for it. Someone holding a lock on a
        # new file has already run this switch successfully (every connection does so before its
        # first BEGIN), so when several processes open a fresh database at once the file is, or
        # is just becoming, WAL anyway: losing that race is harmless.
        if "locked" not in str(exc):
            raise


def _begin_immediate(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front (waiting up to busy_timeout). A deferred transaction
    # that reads and then writes would instead fail at once with SQLITE_BUSY in WAL mode whenever
    # another writer committed in between, which is exactly what concurrent requests do.
    # Read-only transactions need no lock at all: in WAL mode they read a snapshot beside the writer.
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upsert_into(connection: AsyncConnection | str, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT, in the dialect of this connection (or of this dialect
    name; the same API on both)."""
    dialect = connection if isinstance(connection, str) else connection.dialect.name
    if dialect == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)
