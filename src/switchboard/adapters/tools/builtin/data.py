"""Data tools: SQL over CSV/JSON data (inline or an uploaded file), and statistics of one column.

Queries run in a throwaway in-memory SQLite database, in a worker thread. SQLite's authorizer lets
through reads only, and a progress handler stops a query at its deadline, so neither writes nor a
runaway recursive CTE can hurt anything.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import statistics
import time
from collections import Counter
from typing import Any

from switchboard.adapters.tools.builtin.base import ToolFailure, UserFileReader, object_schema
from switchboard.adapters.tools.builtin.tabular import Table, Value, guess_format, parse_table
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec

MAX_INLINE_CHARS = 2_000_000
_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_SOURCE_PROPERTIES: dict[str, Any] = {
    "data": {"type": "string", "maxLength": MAX_INLINE_CHARS, "description": "Inline CSV or JSON text."},
    "file_id": {"type": "string", "minLength": 1, "maxLength": 200, "description": "An uploaded file's id."},
    "format": {"type": "string", "enum": ["auto", "csv", "json"], "default": "auto"},
}


class TableLoader:
    """Reads the `data` or `file_id` argument into a Table; exactly one of them must be given."""

    def __init__(self, files: UserFileReader | None, max_file_bytes: int) -> None:
        self._files = files
        self._max_file_bytes = max_file_bytes

    async def load(self, arguments: dict[str, Any], ctx: ToolContext) -> Table:
        inline, file_id = arguments.get("data"), arguments.get("file_id")
        if (inline is None) == (file_id is None):
            raise ToolFailure("give exactly one of 'data' (inline CSV or JSON) or 'file_id'")
        data_format = arguments.get("format", "auto")
        if inline is not None:
            text = str(inline)
        else:
            text, guessed = await self._read_file(ctx.user_id, str(file_id))
            data_format = guessed if data_format == "auto" else data_format
        return await asyncio.to_thread(parse_table, text, data_format)

    async def _read_file(self, user_id: int, file_id: str) -> tuple[str, str]:
        if self._files is None:
            raise ToolFailure("reading uploaded files is not available on this server")
        try:
            name, mime, raw = await self._files.read_user_file(user_id, file_id)
        except NotFound as exc:
            raise ToolFailure(f"file {file_id!r} not found") from exc
        if len(raw) > self._max_file_bytes:
            raise ToolFailure(f"file {name!r} is larger than {self._max_file_bytes} bytes")
        return raw.decode("utf-8-sig", errors="replace"), guess_format(name, mime)


def _only_reads(action: int, *_details: object) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def run_select(
    table: Table, sql: str, max_rows: int, timeout_s: float
) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    connection = sqlite3.connect(":memory:")
    try:
        columns = ", ".join(_quote(name) for name in table.columns)  # no declared types: values keep theirs
        connection.execute(f"CREATE TABLE data ({columns})")
        marks = ", ".join("?" for _ in table.columns)
        connection.executemany(f"INSERT INTO data VALUES ({marks})", table.rows)
        connection.set_authorizer(_only_reads)
        deadline = time.monotonic() + timeout_s
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            cursor = connection.execute(sql)
            if cursor.description is None:
                raise ToolFailure("only a SELECT query is allowed")
            rows = cursor.fetchmany(max_rows + 1)
        except sqlite3.DatabaseError as exc:  # ProgrammingError too: several statements at once
            message = str(exc)
            if "not authorized" in message:
                raise ToolFailure("only a read-only SELECT (or WITH ... SELECT) query is allowed") from exc
            if "interrupted" in message:
                raise ToolFailure(f"the query ran longer than {timeout_s:g}s and was stopped") from exc
            raise ToolFailure(f"SQL error: {message}") from exc
        names = [description[0] for description in cursor.description]
        return names, rows[:max_rows], len(rows) > max_rows
    finally:
        connection.close()


def _as_csv(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


class QueryData:
    def __init__(self, loader: TableLoader, *, query_timeout_s: float = 10.0, max_rows: int = 200) -> None:
        self._loader = loader
        self._query_timeout_s = query_timeout_s
        self._max_rows = max_rows
        self.spec = ToolSpec(
            name="query_data",
            description=(
                "Run one read-only SQL query (SQLite dialect) over CSV or JSON data, given inline or as an "
                "uploaded file id. The data is the table named `data`; its header row or object keys are the "
                "column names (quote names with spaces in double quotes). Returns the result as CSV."
            ),
            parameters=object_schema(
                {
                    "sql": {"type": "string", "minLength": 1, "maxLength": 10_000},
                    **_SOURCE_PROPERTIES,
                    "max_rows": {"type": "integer", "minimum": 1, "maximum": max_rows, "default": 50},
                },
                ["sql"],
            ),
            category="data",
            timeout_s=query_timeout_s + 10,
        )

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        table = await self._loader.load(arguments, ctx)
        max_rows = int(arguments.get("max_rows", 50))
        columns, rows, more = await asyncio.to_thread(
            run_select, table, arguments["sql"], max_rows, self._query_timeout_s
        )
        content = _as_csv(columns, rows)
        content += f"({len(rows)} row(s){f'; more rows exist, only the first {max_rows} are shown' if more else ''})"
        data = {"columns": columns, "rows": [list(row) for row in rows], "truncated": more}
        return ToolOutcome(content=content, data=data)


def column_statistics(table: Table, column: str) -> dict[str, Any]:
    lookup = {name.lower(): index for index, name in enumerate(table.columns)}
    if column.lower() not in lookup:
        raise ToolFailure(f"no column {column!r}; the columns are: {', '.join(table.columns)}")
    index = lookup[column.lower()]
    values: list[Value] = [row[index] for row in table.rows]
    present = [value for value in values if value is not None]
    stats: dict[str, Any] = {
        "column": table.columns[index],
        "count": len(values),
        "nulls": len(values) - len(present),
        "distinct": len(set(present)),
    }
    numbers = [value for value in present if isinstance(value, int | float)]
    if present and len(numbers) == len(present):
        stats |= {
            "type": "number",
            "min": min(numbers),
            "max": max(numbers),
            "sum": sum(numbers),
            "mean": statistics.fmean(numbers),
            "median": statistics.median(numbers),
            "stdev": statistics.stdev(numbers) if len(numbers) > 1 else 0.0,
        }
    else:
        texts = [str(value) for value in present]
        stats |= {
            "type": "text",
            "top_values": [[value, count] for value, count in Counter(texts).most_common(5)],
            "min_length": min(map(len, texts), default=0),
            "max_length": max(map(len, texts), default=0),
        }
    return stats


class ColumnStats:
    def __init__(self, loader: TableLoader) -> None:
        self._loader = loader
        self.spec = ToolSpec(
            name="column_stats",
            description=(
                "Summary statistics of one column of CSV or JSON data (inline or an uploaded file id): "
                "count, nulls, distinct values; min, max, sum, mean, median and standard deviation for "
                "numbers; the most common values and lengths for text."
            ),
            parameters=object_schema(
                {"column": {"type": "string", "minLength": 1, "maxLength": 200}, **_SOURCE_PROPERTIES},
                ["column"],
            ),
            category="data",
            timeout_s=20.0,
        )

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        table = await self._loader.load(arguments, ctx)
        stats = await asyncio.to_thread(column_statistics, table, arguments["column"])
        lines = [f"{key}: {value}" for key, value in stats.items()]
        return ToolOutcome(content="\n".join(lines), data=stats)
