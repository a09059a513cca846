"""Turning CSV or JSON text into one table: column names and typed rows.

Values are typed per column: a column whose every non-empty value is an integer becomes integers,
likewise for decimals; anything else stays text. Empty cells become NULL.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from switchboard.adapters.tools.builtin.base import ToolFailure

Value = int | float | str | None
MAX_ROWS = 200_000
MAX_COLUMNS = 500


@dataclass(frozen=True, slots=True)
class Table:
    columns: list[str]
    rows: list[list[Value]]


def _unique_names(raw: list[str]) -> list[str]:
    names: list[str] = []
    for index, name in enumerate(raw, 1):
        base = " ".join(str(name).split()) or f"column_{index}"
        candidate, suffix = base, 2
        while candidate.lower() in (existing.lower() for existing in names):
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        names.append(candidate)
    return names


def _parse_number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number else None  # "nan" stays text


def _typed_column(values: list[Value]) -> list[Value]:
    present = [value for value in values if value is not None]
    if not present or not all(isinstance(value, str) for value in present):
        return values  # JSON already carried types
    parsed = [_parse_number(str(value)) for value in present]
    if any(number is None for number in parsed):
        return values
    as_float = any(isinstance(number, float) for number in parsed)
    typed: list[Value] = []
    for value in values:
        number = None if value is None else _parse_number(str(value))
        typed.append(float(number) if as_float and number is not None else number)
    return typed


def _finish(columns: list[str], rows: list[list[Value]]) -> Table:
    if not columns:
        raise ToolFailure("the data has no columns")
    if len(columns) > MAX_COLUMNS:
        raise ToolFailure(f"the data has more than {MAX_COLUMNS} columns")
    if len(rows) > MAX_ROWS:
        raise ToolFailure(f"the data has more than {MAX_ROWS} rows")
    by_column = [_typed_column([row[index] for row in rows]) for index in range(len(columns))]
    typed_rows = [list(values) for values in zip(*by_column, strict=True)] if rows else []
    return Table(columns=columns, rows=typed_rows)


def parse_csv(text: str) -> Table:
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ToolFailure("the CSV data is empty") from exc
    columns = _unique_names(header)
    rows: list[list[Value]] = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        cells: list[Value] = [cell if cell.strip() else None for cell in record[: len(columns)]]
        rows.append(cells + [None] * (len(columns) - len(cells)))
        if len(rows) > MAX_ROWS:
            break
    return _finish(columns, rows)


def _records(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        lists = [value for value in document.values() if isinstance(value, list)]
        if len(lists) == 1:  # {"data": [...]} and similar wrappers
            return lists[0]
        return [document]
    raise ToolFailure("JSON data must be an array of objects (or an object holding one)")


def _cell(value: Any) -> Value:
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False)  # nested objects stay readable as JSON text


def parse_json(text: str) -> Table:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        try:  # JSON Lines: one object per line
            document = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ToolFailure(f"not valid JSON: {exc}") from exc
    records = _records(document)
    if records and all(isinstance(record, list) for record in records):
        header, *body = records
        columns, objects = _unique_names([str(name) for name in header]), body
        rows = [[_cell(row[i]) if i < len(row) else None for i in range(len(columns))] for row in objects]
        return _finish(columns, rows)
    if not all(isinstance(record, dict) for record in records):
        raise ToolFailure("JSON data must be an array of objects with the same kind of keys")
    keys = list(dict.fromkeys(str(key) for record in records for key in record))
    columns = _unique_names(keys)
    rows = [[_cell(record.get(key)) for key in keys] for record in records]
    return _finish(columns, rows)


def parse_table(text: str, data_format: str) -> Table:
    """data_format: csv, json, or auto (JSON when the text starts like JSON)."""
    if data_format == "auto":
        data_format = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    return parse_json(text) if data_format == "json" else parse_csv(text)


def guess_format(name: str, mime: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".json", ".jsonl", ".ndjson")) or "json" in mime:
        return "json"
    if lowered.endswith((".csv", ".tsv", ".txt")) or mime in ("text/csv", "text/tab-separated-values"):
        return "csv"
    return "auto"
