"""How the values of typed columns cross each driver, for statements that skip SQLAlchemy's type
processing (prepared.py): what tables.UtcDateTime and SQLAlchemy's JSON type do, by hand.

Values are stored exactly as those types store them (existing databases, other workers on older
code): datetimes as UTC — on SQLite naive text `YYYY-MM-DD HH:MM:SS.ffffff`, on PostgreSQL
timestamptz; JSON as `json.dumps` text with its default settings (orjson's compact, unescaped
output would be equal as JSON but not the same bytes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

import orjson
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncConnection

# orjson reads an integer outside 64 bits as a float, where json.loads keeps it exact: any run of 19
# digits or more (it may not fit) goes to json.loads
_LONG_NUMBER = re.compile(r"[0-9]{19}")


def json_loads(text: str | bytes) -> Any:
    """orjson, several times faster than json.loads, for what it reads exactly as json.loads does;
    json.loads for the rest (NaN and Infinity, which json.dumps writes, and long integers), so
    every stored value reads back as before. The engines' json_deserializer as well."""
    if isinstance(text, bytes):
        text = text.decode()
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _same(value: Any) -> Any:
    return value


def _sqlite_time_in(value: datetime | None) -> str | None:
    # as tables.UtcDateTime + SQLite's DATETIME: naive UTC, always with microseconds
    if value is None:
        return None
    if value.tzinfo is UTC:  # the usual case (the clock's, and every time read back): its text less "+00:00"
        return value.isoformat(" ", "microseconds")[:-6]
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _sqlite_time_out(value: str | None) -> datetime | None:
    if value is None:
        return None
    # the stored naive UTC text read as UTC at once: datetime.replace(tzinfo=...) costs several
    # times the parse, twice per message of a turn's history. Text with an offset of its own (then
    # invalid) or no time (then read as naive) is read as before.
    try:
        if (parsed := datetime.fromisoformat(value + "+00:00")).tzinfo is UTC:
            return parsed
    except ValueError:
        pass
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _postgres_time_in(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _postgres_time_out(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


# json.dumps's own C encoder with json.dumps's default settings, made once: the same bytes as
# json.dumps (SQLAlchemy's JSON type with no json_serializer set), without the Python frames
# json.dumps goes through to build it anew on every call (half of a message's cost to write).
# No cycle check (markers None): the values are model_dump output and plain dicts, never cyclic.
_ENCODE = (c_make_encoder(None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False,
                          False, True) if c_make_encoder is not None else None)


def _json_in(value: Any) -> str:
    if _ENCODE is None or isinstance(value, str):  # (a top-level str: json.dumps encodes it alone)
        return json.dumps(value)
    return "".join(_ENCODE(value, 0))


def _json_out(value: str | None) -> Any:
    return None if value is None else json_loads(value)


def _models_from_text(adapter: TypeAdapter[Any], value: str | None) -> Any:
    # pydantic parses the JSON text and builds the models in one call, where json_loads and a
    # model_validate per item cost several times more for each message of a turn's history
    return None if value is None else adapter.validate_json(value)


def _models_from_values(adapter: TypeAdapter[Any], value: Any) -> Any:
    return None if value is None else adapter.validate_python(value)


@dataclass(frozen=True, slots=True)
class Codec:
    """How a value of a typed column crosses one driver (what SQLAlchemy's types do, by hand).

    `json_in` serialises a JSON column's value (a nullable column's None is passed as NULL by the
    caller); `time_in`/`time_out` convert UtcDateTime; `json_out` reads a JSON column, and
    `models_out` reads one as what a pydantic TypeAdapter validates (SQL NULL as None). TYPED
    leaves every value as it is, for SQLAlchemy's own statements, whose types convert them."""

    time_in: Callable[[datetime | None], Any]
    time_out: Callable[[Any], datetime | None]
    json_in: Callable[[Any], Any]
    json_out: Callable[[Any], Any]
    models_out: Callable[[TypeAdapter[Any], Any], Any]


SQLITE = Codec(_sqlite_time_in, _sqlite_time_out, _json_in, _json_out, _models_from_text)
# asyncpg decodes JSON itself, with the engine's json_deserializer (SQLAlchemy registers the codec)
POSTGRES = Codec(_postgres_time_in, _postgres_time_out, _json_in, _same, _models_from_values)
# values SQLAlchemy's types convert (Core statements, and the rows of Core queries)
TYPED = Codec(_same, _same, _same, _same, _models_from_values)


def codec_for(connection: AsyncConnection) -> Codec:
    return SQLITE if connection.dialect.name == "sqlite" else POSTGRES
