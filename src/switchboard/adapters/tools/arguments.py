"""Checking a tool's arguments against its JSON Schema, with one readable message per failure."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.validators import validator_for

from switchboard.core.domain.errors import InvalidInput

_MAX_MESSAGE_CHARS = 300


def describe(error: ValidationError) -> tuple[str, str]:
    """(field, message) for the one error best worth telling the model about."""
    path = [str(part) for part in error.absolute_path]
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in instance]
        field = ".".join([*path, str(missing[0] if missing else "?")])
        return field, f"missing required argument '{field}'"
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unknown = sorted(str(name) for name in instance if name not in known)
        field = ".".join([*path, unknown[0] if unknown else "?"])
        return field, f"unknown argument '{field}'"
    field = ".".join(path) or "arguments"
    message = error.message
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[:_MAX_MESSAGE_CHARS] + "…"
    return field, f"invalid argument '{field}': {message}"


def check_against_schema(name: str, schema: dict[str, Any], arguments: Any) -> None:
    """InvalidInput naming the bad field. A schema that is itself broken (a third-party MCP server's)
    checks only that the arguments are an object and leaves the rest to the server."""
    if not isinstance(arguments, dict):
        raise InvalidInput(f"{name}: arguments must be a JSON object", param="arguments")
    try:
        cls = validator_for(schema, default=Draft202012Validator)
        cls.check_schema(schema)
        error = best_match(cls(schema).iter_errors(arguments))
    except SchemaError:
        return
    if error is not None:
        field, message = describe(error)
        raise InvalidInput(f"{name}: {message}", param=field)
