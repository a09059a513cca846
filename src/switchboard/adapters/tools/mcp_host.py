"""MCP servers as a tool host and as the admin's registry of servers.

Each server's tools join the registry as `<server>__<tool>` (category `mcp`); a call is routed to
the server's live session. A session found dead during a call is reconnected and the call is tried
once more. Edits made at runtime live here in memory; saving them is the caller's business.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from mcp.shared.exceptions import MCPError

from switchboard.adapters.tools.arguments import check_against_schema
from switchboard.adapters.tools.mcp_connection import McpConnection, McpTimings, RemoteTool
from switchboard.adapters.tools.mcp_wire import CallTimedOut, ConnectionLost, outcome_from_result
from switchboard.core.domain.errors import DomainError, NotFound
from switchboard.core.domain.mcp import McpServerConfig, McpServerStatus, validate_server_name
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec

logger = logging.getLogger(__name__)


class McpToolHost:
    """Implements core.ports.tools.ToolHost and core.ports.mcp.McpRegistry."""

    def __init__(
        self,
        *,
        call_timeout_s: float = 60.0,
        connect_timeout_s: float = 30.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        health_interval_s: float = 15.0,
        stop_grace_s: float = 5.0,
        child_stderr: TextIO | None = None,
    ) -> None:
        self._timings = McpTimings(
            call_timeout_s=call_timeout_s,
            connect_timeout_s=connect_timeout_s,
            backoff_initial_s=backoff_initial_s,
            backoff_max_s=backoff_max_s,
            health_interval_s=health_interval_s,
            stop_grace_s=stop_grace_s,
        )
        # A stdio server's stderr is its log; by default it goes where ours goes.
        self._child_stderr = child_stderr or sys.__stderr__ or open(os.devnull, "w")
        self._connections: dict[str, McpConnection] = {}
        self._refused: dict[str, McpServerStatus] = {}  # config entries whose name cannot be used
        self._edit_lock = asyncio.Lock()

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, configs: Mapping[str, McpServerConfig], *, wait: bool = True) -> None:
        """Starts every enabled server. With `wait`, returns once each has connected or failed once
        (a failing server keeps retrying in the background either way)."""
        started: list[McpConnection] = []
        async with self._edit_lock:
            for name, config in configs.items():
                try:
                    validate_server_name(name)
                except DomainError as exc:
                    logger.warning("MCP server %r ignored: %s", name, exc.message)
                    self._refused[name] = _refused_status(name, config, exc.message)
                    continue
                started.append(self._install(name, config))
        if wait:
            await asyncio.gather(*(self._first_attempt(conn) for conn in started))

    async def close(self) -> None:
        """Stops every server; stdio child processes are gone when this returns."""
        async with self._edit_lock:
            connections, self._connections = list(self._connections.values()), {}
        await asyncio.gather(*(conn.stop() for conn in connections))

    # --- ToolHost ------------------------------------------------------------------------------

    async def specs(self) -> list[ToolSpec]:
        specs: dict[str, ToolSpec] = {}
        for conn in self._in_order():
            if conn.state != "connected":
                continue
            for exposed, tool in conn.tools.items():
                specs.setdefault(exposed, tool.spec)  # first server (by name) wins a clash
        return list(specs.values())

    async def call(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        conn, tool = self._route(name)
        if conn.state == "error":
            return _failed(conn, f"is unavailable: {conn.status().error}")
        if conn.state == "connecting" and not await conn.wait_until(
            lambda: conn.state != "connecting", self._retry_wait_s()
        ):
            return _failed(conn, "is still connecting")
        try:
            return await self._call_once(conn, tool, arguments)
        except ConnectionLost as lost:
            failed_generation = int(lost.args[1])
            logger.info("MCP server %r lost during %s: %s; reconnecting", conn.name, name, lost.args[0])
        conn.request_reconnect(failed_generation)
        back = await conn.wait_until(
            lambda: conn.state == "connected" and conn.generation > failed_generation, self._retry_wait_s()
        )
        retry_tool = conn.tools.get(name)
        if not back or retry_tool is None:
            reason = conn.status().error or "did not come back"
            return _failed(conn, f"lost its connection and could not reconnect: {reason}")
        try:
            return await self._call_once(conn, retry_tool, arguments)
        except ConnectionLost as lost_again:
            return _failed(conn, f"lost its connection again: {lost_again.args[0]}")

    async def check_arguments(self, name: str, arguments: dict[str, Any]) -> None:
        _, tool = self._route(name)
        check_against_schema(name, tool.spec.parameters, arguments)

    async def _call_once(self, conn: McpConnection, tool: RemoteTool, arguments: dict[str, Any]) -> ToolOutcome:
        """One attempt; only ConnectionLost escapes, everything else becomes an error outcome."""
        try:
            result = await conn.call(tool.remote_name, arguments, self._timings.call_timeout_s)
        except CallTimedOut as slow:
            return _failed(conn, f"timed out on {tool.remote_name}: {slow}")
        except MCPError as rejected:
            return _failed(conn, f"rejected {tool.remote_name}: {rejected.message}")
        except ConnectionLost:
            raise
        except Exception as exc:  # a tool failure must never take the chat down with it
            logger.exception("MCP call %s on %r failed unexpectedly", tool.remote_name, conn.name)
            return _failed(conn, f"failed on {tool.remote_name}: {type(exc).__name__}: {exc}")
        return outcome_from_result(result)

    # --- McpRegistry ---------------------------------------------------------------------------

    async def statuses(self) -> list[McpServerStatus]:
        found = {conn.name: conn.status() for conn in self._connections.values()}
        found.update({name: status for name, status in self._refused.items() if name not in found})
        return [found[name] for name in sorted(found)]

    async def upsert(self, name: str, config: McpServerConfig) -> McpServerStatus:
        validate_server_name(name)
        async with self._edit_lock:
            old = self._connections.pop(name, None)
            self._refused.pop(name, None)
            if old is not None:
                await old.stop()
            conn = self._install(name, config)
        await self._first_attempt(conn)
        return conn.status()

    async def remove(self, name: str) -> None:
        async with self._edit_lock:
            conn = self._connections.pop(name, None)
            refused = self._refused.pop(name, None)
            if conn is None and refused is None:
                raise NotFound(f"no MCP server named {name!r}")
            if conn is not None:
                await conn.stop()

    async def set_disabled(self, name: str, disabled: bool) -> McpServerStatus:
        current = self._connections.get(name)
        if current is None:
            raise NotFound(f"no MCP server named {name!r}")
        if current.config.disabled == disabled:
            return current.status()
        return await self.upsert(name, current.config.model_copy(update={"disabled": disabled}))

    async def reconnect_all(self) -> list[McpServerStatus]:
        async with self._edit_lock:
            old = list(self._connections.values())
            await asyncio.gather(*(conn.stop() for conn in old))
            fresh = [self._install(conn.name, conn.config) for conn in old]
        await asyncio.gather(*(self._first_attempt(conn) for conn in fresh))
        return await self.statuses()

    # --- helpers -------------------------------------------------------------------------------

    def _install(self, name: str, config: McpServerConfig) -> McpConnection:
        conn = McpConnection(name, config, self._timings, self._child_stderr)
        self._connections[name] = conn
        conn.start()
        return conn

    async def _first_attempt(self, conn: McpConnection) -> None:
        await conn.wait_until(
            lambda: conn.attempts > 0 or conn.state == "disabled", self._timings.connect_timeout_s + 1.0
        )

    def _route(self, name: str) -> tuple[McpConnection, RemoteTool]:
        for conn in self._in_order():
            tool = conn.tools.get(name)
            if tool is not None:
                return conn, tool
        raise NotFound(f"no MCP tool named {name!r}")

    def _in_order(self) -> list[McpConnection]:
        return [self._connections[name] for name in sorted(self._connections)]

    def _retry_wait_s(self) -> float:
        return min(self._timings.connect_timeout_s, self._timings.call_timeout_s)


def _failed(conn: McpConnection, what: str) -> ToolOutcome:
    return ToolOutcome(content=f"MCP server '{conn.name}' {what}", is_error=True)


def _refused_status(name: str, config: McpServerConfig, reason: str) -> McpServerStatus:
    return McpServerStatus(
        name=name,
        transport=config.resolved_transport,
        state="error",
        error=reason,
        tool_count=0,
        config=config,
    )
