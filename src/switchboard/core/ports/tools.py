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
