"""What every built-in tool looks like, and the few things tools share."""

from __future__ import annotations

from typing import Any, Protocol

from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec


class BuiltinTool(Protocol):
    """One tool: its public description and how to run it with already validated arguments."""

    @property
    def spec(self) -> ToolSpec: ...

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome: ...


class ToolFailure(Exception):
    """An expected failure (bad URL, place not found, refused SQL): the host turns the message
    into an error outcome for the model, without a stack trace in the logs."""


class UserFileReader(Protocol):
    """How data tools read a user's upload; the app wires it to the file service."""

    async def read_user_file(self, user_id: int, file_id: str) -> tuple[str, str, bytes]:
        """Returns (name, mime, bytes). Raises core.domain.errors.NotFound when the file is absent
        or belongs to another user."""
        ...


def object_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A JSON Schema for an arguments object that refuses unknown fields, so typos surface."""
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
