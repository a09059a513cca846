"""The chat turn's statements, compiled once per dialect and run on the DB-API cursor.

A turn runs about a dozen statements, and SQLAlchemy's per-statement execution (execution
context, parameter and result processors, Result objects) cost more CPU than SQLite or asyncpg
spent running them. These statements are still written in SQLAlchemy Core (so the SQL is
checked against `tables.py` and rendered for each database), but compiled once per dialect to
SQL text, given positional values converted by hand (values.Codec), and their rows mapped to
domain objects by hand (the repositories' `_..._from_row`). Everything not on the turn's path
stays on Core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable, Select
from sqlalchemy.sql.dml import UpdateBase

from switchboard.adapters.storage.pg_steps import DriverConnection
from switchboard.adapters.storage.steps import DirectConnection


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the value for each placeholder, in order
    fixed: dict[str, Any]  # values the statement carries itself (typed literals)
    returns_rows: bool  # a SELECT or RETURNING (else only its rowcount is wanted)
    reads: bool  # a plain SELECT: writes and locks nothing (pg_steps may run it outside a transaction)


class Prepared:
    """One statement, compiled on first use for each dialect. `keys` names the columns an INSERT
    or UPDATE sets (from the values each call passes); `statement` may be a function of the dialect
    name for a statement written per dialect (an upsert)."""

    def __init__(self, statement: Executable | Callable[[str], Executable], keys: Sequence[str] = ()) -> None:
        self._statement = statement
        self._keys = list(keys)
        self._compiled: dict[tuple[str, str], _Compiled] = {}  # a cache, filled once per dialect

    def bind(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[_Compiled, tuple[Any, ...]]:
        compiled = self._compiled.get((dialect.name, dialect.paramstyle))
        if compiled is None:
            compiled = self._compile(dialect)
        if compiled.fixed:
            values = {**compiled.fixed, **values}
        return compiled, tuple([values[name] for name in compiled.names])

    def _compile(self, dialect: Dialect) -> _Compiled:
        statement = self._statement if isinstance(self._statement, Executable) else self._statement(dialect.name)
        compiled = statement.compile(dialect=dialect, column_keys=self._keys)  # type: ignore[attr-defined]
        if compiled.positiontup is None:
            raise RuntimeError(f"{dialect.name}'s driver does not take positional parameters")
        names = tuple(compiled.positiontup)
        fixed = {name: compiled.binds[name].value for name in names if not compiled.binds[name].required}
        writes = compiled.isinsert or compiled.isupdate or compiled.isdelete  # type: ignore[attr-defined]
        returns_rows = not writes or bool(compiled.effective_returning)  # type: ignore[attr-defined]
        # (a SELECT whose CTEs write, as a turn's start and end, writes)
        reads = isinstance(statement, Select) and statement._for_update_arg is None and not any(
            isinstance(cte.element, UpdateBase) for cte in compiled.ctes or ())
        result = _Compiled(compiled.string, names, fixed, returns_rows, reads)
        self._compiled[(dialect.name, dialect.paramstyle)] = result
        return result


async def run(
    connection: AsyncConnection, prepared: Prepared, values: Mapping[str, Any], lone: bool = False,
) -> tuple[list[Any], int]:
    """Run a prepared statement: its rows (tuples of the driver's values) and its rowcount.

    Inside a storage step it goes to the DB-API cursor at once (DirectConnection) or to asyncpg
    (DriverConnection, PostgreSQL); in a unit of work's own transaction (AsyncConnection) through
    exec_driver_sql, which adds no compilation or type processing either. `lone`: the statement is
    all its step writes, nothing runs after it (DriverConnection.run_sql: no BEGIN and COMMIT)."""
    compiled, parameters = prepared.bind(connection.dialect, values)
    if isinstance(connection, DirectConnection):
        return connection.run_sql(compiled.sql, parameters)
    if isinstance(connection, DriverConnection):
        return await connection.run_sql(compiled.sql, parameters, compiled.returns_rows, lone, compiled.reads)
    result = await connection.exec_driver_sql(compiled.sql, parameters)
    return (list(result.all()) if result.returns_rows else []), result.rowcount
