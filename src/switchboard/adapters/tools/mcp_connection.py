"""One MCP server kept connected by a supervisor task.

The SDK's transports and sessions are anyio task groups, which must be entered and left by the same
task; so each server gets one long-lived task that owns them for the life of a session and loops:
connect -> list tools -> wait (re-listing tools now and then as a health check) until asked to stop
or reconnect, or until the session fails -> on failure record the reason and retry after an
exponential, capped backoff.
Callers in other tasks only send requests over the live session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TextIO

import anyio
import mcp.types as mcp_types
from mcp import Client

from switchboard.adapters.tools.mcp_wire import (
    CallTimedOut,
    ConnectionLost,
    describe_failure,
    is_dead_connection,
    is_timeout,
    open_transport,
)
from switchboard.core.domain.mcp import McpServerConfig, McpServerStatus, McpState, mcp_tool_name
from switchboard.core.domain.tools import ToolSpec

logger = logging.getLogger(__name__)

_MAX_TOOL_PAGES = 50  # a server that paginates forever must not hang the connect


@dataclass(frozen=True, slots=True)
class McpTimings:
    """How patient the host is. Tests shrink these; the defaults suit real servers."""

    call_timeout_s: float = 60.0
    connect_timeout_s: float = 30.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    health_interval_s: float = 15.0
    stop_grace_s: float = 5.0

    def backoff(self, failures: int) -> float:
        return float(min(self.backoff_max_s, self.backoff_initial_s * (2 ** min(failures, 30))))


@dataclass(frozen=True, slots=True)
class RemoteTool:
    remote_name: str  # the name the server knows it by
    spec: ToolSpec  # what the model sees: prefixed name, category "mcp"


class McpConnection:
    def __init__(self, name: str, config: McpServerConfig, timings: McpTimings, errlog: TextIO) -> None:
        self.name = name
        self.config = config
        self._timings = timings
        self._errlog = errlog
        self._state: McpState = "disabled" if config.disabled else "connecting"
        self._error: str | None = None
        self._tools: dict[str, RemoteTool] = {}
        self._client: Client | None = None
        self._generation = 0  # bumped on every successful connect
        self._attempts = 0  # bumped whenever a connect attempt ends, well or badly
        self._stopping = False
        self._reconnect_requested = False
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- what the host reads -------------------------------------------------------------------

    @property
    def tools(self) -> dict[str, RemoteTool]:
        """The tools of the current session, or of the last one while reconnecting."""
        return self._tools

    @property
    def state(self) -> McpState:
        return self._state

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def attempts(self) -> int:
        return self._attempts

    def status(self) -> McpServerStatus:
        return McpServerStatus(
            name=self.name,
            transport=self.config.resolved_transport,
            state=self._state,
            error=self._error,
            tool_count=len(self._tools) if self._state == "connected" else 0,
            config=self.config,
        )

    async def wait_until(self, condition: Callable[[], bool], within_s: float) -> bool:
        """Waits for a state change that makes `condition` true; False on timeout."""
        with anyio.move_on_after(within_s):
            while not condition():
                await self._changed.wait()
            return True
        return condition()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if self.config.disabled or self._task is not None:
            return
        self._task = asyncio.create_task(self._supervise(), name=f"mcp-server:{self.name}")

    def request_reconnect(self, failed_generation: int) -> None:
        """Drops the session and connects again at once, unless that session is already gone (the
        health check or another caller got there first) or a connect is under way."""
        if self._state != "connected" or failed_generation != self._generation:
            return
        self._reconnect_requested = True
        self._wake.set()

    async def stop(self) -> None:
        """Leaves the session (a stdio child is asked to exit, then killed) and ends the task."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=self._timings.stop_grace_s)
            if not done:  # stuck connecting: cancelling still runs the transport's bounded shutdown
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._tools = {}
        self._set_state("disabled" if self.config.disabled else "error", "stopped")

    # --- calls from other tasks ----------------------------------------------------------------

    async def call(self, remote_name: str, arguments: dict[str, Any], limit_s: float) -> mcp_types.CallToolResult:
        """Raises ConnectionLost (with the session's generation in args[1]), CallTimedOut, or the
        server's MCPError rejecting the call."""
        client, generation = self._client, self._generation
        if client is None or self._state != "connected":
            raise ConnectionLost(f"not connected ({self._error or self._state})", generation)
        try:
            with anyio.fail_after(limit_s):
                return await client.call_tool(remote_name, arguments, read_timeout_seconds=limit_s)
        except Exception as exc:
            if is_timeout(exc):
                raise CallTimedOut(f"no answer within {limit_s:g}s") from exc
            if is_dead_connection(exc):
                raise ConnectionLost(describe_failure(exc), generation) from exc
            raise

    # --- the supervisor ------------------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            self._set_state("connecting", self._error)
            generation_before = self._generation
            try:
                await self._run_session()
                failures = 0  # a requested reconnect or stop: no backoff
            except Exception as exc:
                if self._stopping:
                    break
                if self._generation != generation_before:
                    failures = 0  # it had been working: retry quickly first
                else:
                    self._attempts += 1  # a successful attempt was counted when it connected
                reason = describe_failure(exc)
                logger.warning("MCP server %r failed: %s", self.name, reason)
                # The last tool list stays so calls to it get "unavailable", not "no such tool".
                self._set_state("error", reason)
                await self._sleep_unless_woken(self._timings.backoff(failures))
                failures += 1

    async def _run_session(self) -> None:
        async with AsyncExitStack() as stack:
            transport = await open_transport(self.config, stack, self._errlog)
            # read_timeout bounds the handshake and the tool listing; calls pass their own timeout.
            client = Client(transport, cache=None, read_timeout_seconds=self._timings.connect_timeout_s)
            await stack.enter_async_context(client)
            self._tools = await self._list_tools(client)
            self._client = client
            self._generation += 1
            self._attempts += 1
            self._set_state("connected", None)
            try:
                await self._hold(client)
            finally:
                self._client = None

    async def _hold(self, client: Client) -> None:
        """Returns when asked to stop or reconnect; raises when a health check fails."""
        while True:
            self._wake.clear()  # cleared before the flags are read, so no request is lost
            if self._stopping or self._reconnect_requested:
                self._reconnect_requested = False
                return
            with anyio.move_on_after(self._timings.health_interval_s) as idle:
                await self._wake.wait()
            if idle.cancelled_caught:
                # Re-listing is the health check: ping is gone from the 2026 protocol, and this
                # also picks up tools the server added or removed.
                with anyio.fail_after(self._timings.connect_timeout_s):
                    tools = await self._list_tools(client)
                if tools != self._tools:  # added, removed or changed tools
                    self._tools = tools
                    self._notify()

    async def _list_tools(self, client: Client) -> dict[str, RemoteTool]:
        tools: dict[str, RemoteTool] = {}
        cursor: str | None = None
        for _ in range(_MAX_TOOL_PAGES):
            page = await client.list_tools(cursor=cursor)
            for tool in page.tools:
                exposed = mcp_tool_name(self.name, tool.name)
                tools.setdefault(exposed, RemoteTool(tool.name, self._spec(exposed, tool)))
            cursor = page.next_cursor
            if cursor is None:
                break
        return tools

    def _spec(self, exposed: str, tool: mcp_types.Tool) -> ToolSpec:
        return ToolSpec(
            name=exposed,
            description=tool.description or tool.title or tool.name,
            parameters=tool.input_schema or {"type": "object", "properties": {}},
            category="mcp",
            timeout_s=self._timings.call_timeout_s,
            source=f"mcp:{self.name}",
        )

    async def _sleep_unless_woken(self, seconds: float) -> None:
        self._wake.clear()
        if self._stopping or self._reconnect_requested:
            self._reconnect_requested = False
            return
        with anyio.move_on_after(seconds):
            await self._wake.wait()
        self._reconnect_requested = False

    def _set_state(self, state: McpState, error: str | None) -> None:
        self._state, self._error = state, error
        self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
