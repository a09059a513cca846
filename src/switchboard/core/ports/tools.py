"""Where tools come from and how one is run: built-ins and MCP servers behind one face."""

from __future__ import annotations

from typing import Any, Protocol

from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec


class ToolHost(Protocol):
    async def specs(self) -> list[ToolSpec]: ...

    async def call(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        """Runs one tool. Failures come back as ToolOutcome(is_error=True), never as exceptions,
        except NotFound for an unknown tool name."""
        ...


class ValidatingToolHost(ToolHost, Protocol):
    """A ToolHost that can check arguments before a call, for callers that answer a person (the
    tools API) rather than a model."""

    async def check_arguments(self, name: str, arguments: dict[str, Any]) -> None:
        """NotFound for an unknown tool; InvalidInput naming the field when the arguments do not
        match the tool's JSON Schema."""
        ...
