"""The admin's handle on MCP servers: see their status and change them while the server runs.

The registry's in-memory state is authoritative; saving edits to the config file is the caller's job.
"""

from __future__ import annotations

from typing import Protocol

from switchboard.core.domain.mcp import McpServerConfig, McpServerStatus


class McpRegistry(Protocol):
    async def statuses(self) -> list[McpServerStatus]:
        """Every configured server, sorted by name."""
        ...

    async def upsert(self, name: str, config: McpServerConfig) -> McpServerStatus:
        """Adds or replaces a server and (re)connects it; returns the status after the first attempt.
        InvalidInput for a bad name."""
        ...

    async def remove(self, name: str) -> None:
        """Disconnects and forgets a server (its child process is stopped). NotFound if unknown."""
        ...

    async def set_disabled(self, name: str, disabled: bool) -> McpServerStatus:
        """Disconnects a server but keeps its entry, or connects it again. NotFound if unknown."""
        ...

    async def reconnect_all(self) -> list[McpServerStatus]:
        """Drops and re-opens every enabled connection."""
        ...
