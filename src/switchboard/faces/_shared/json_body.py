"""A JSON body read by a plain ASGI route exactly as FastAPI reads it for a route with one body
model, so moving a hot route off FastAPI (faces/_shared/plain_asgi) changes none of its answers
to bad input. FastAPI's rules, in its order:

- an empty body is a missing body (422 `body: Field required`);
- a body whose Content-Type is not `application/json` or `application/*+json` (or is absent) is
  not parsed: the raw bytes go to validation, which refuses them (422);
- JSON that does not parse is a 422 `<position>: JSON decode error` (the standard library's
  position); bytes that are not text at all are a 400 "There was an error parsing the body";
- then the model validates the parsed value in Python mode (`from_attributes`, as FastAPI does),
  and its problems are one 422 line (describe_problems).

The standard library parses, as in FastAPI: orjson reads a few bodies differently (integers over
64 bits, NaN, lone surrogates), which would change a validation message, and for a chat turn's
small body the difference in cost is a microsecond or two.
"""

from __future__ import annotations

import email.message
import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from switchboard.core.domain.errors import InvalidInput
from switchboard.faces._shared.errors import describe_problems

M = TypeVar("M", bound=BaseModel)
_JSON_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})  # no parsing for these


class UnprocessableBody(InvalidInput):
    """A body that failed validation: 422, as FastAPI's RequestValidationError."""


def validate(value: Any, model: type[M]) -> M:
    """What `decode` returned, as `model` (FastAPI decodes before the route's dependencies run,
    and validates after them: a bad credential wins over a bad field, not over bad JSON)."""
    if value is _MISSING:
        raise UnprocessableBody(describe_problems([{"loc": ("body",), "msg": "Field required"}]))
    try:
        return model.model_validate(value, from_attributes=True)
    except ValidationError as exc:
        raise UnprocessableBody(describe_problems(exc.errors(include_url=False))) from exc


def decode(raw: bytes, content_type: str | None) -> Any:
    """The value FastAPI would validate: parsed JSON, the raw bytes (not JSON by its Content-Type),
    or a marker for no body. Raises the errors FastAPI raises while reading."""
    if not raw:
        return _MISSING
    if content_type is None or not _is_json(content_type):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UnprocessableBody(describe_problems([{"loc": ("body", exc.pos), "msg": "JSON decode error"}])) from exc
    except ValueError as exc:  # not UTF-8/16/32 text
        raise InvalidInput("There was an error parsing the body") from exc


def _is_json(content_type: str) -> bool:
    if content_type in _JSON_TYPES:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class _Missing:
    __slots__ = ()


_MISSING: Any = _Missing()
