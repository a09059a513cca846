"""The SDK-facing edges of the MCP host: opening a transport for a config entry, telling a dead
connection from a tool's own failure, and turning results and failures into plain text."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from typing import TextIO

import httpx2
import mcp.types as mcp_types
from mcp import StdioServerParameters, stdio_client
from mcp.client import Transport
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from switchboard.core.domain.mcp import McpServerConfig
from switchboard.core.domain.tools import ToolOutcome

# The SDK's own defaults: quick to give up on connecting, patient with a stream held open.
_HTTP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)
_DEAD_SESSION_MARKERS = ("session not found", "session terminated", "connection closed")


class ConnectionLost(Exception):
    """The server or the transport went away; reconnecting may help."""


class CallTimedOut(Exception):
    """The server took longer than the per-call timeout."""


async def open_transport(config: McpServerConfig, stack: AsyncExitStack, errlog: TextIO) -> Transport:
    """A transport for the entry, with anything it needs (an HTTP client) already owned by `stack`."""
    transport = config.resolved_transport
    if transport == "stdio":
        assert config.command is not None  # the config validator guarantees it
        params = StdioServerParameters(command=config.command, args=list(config.args), env=dict(config.env))
        return stdio_client(params, errlog=errlog)
    assert config.url is not None
    if transport == "sse":
        return sse_client(config.url, headers=dict(config.headers) or None)
    # streamable_http_client only takes headers through a client of our own, which we then close.
    http = await stack.enter_async_context(httpx2.AsyncClient(headers=dict(config.headers), timeout=_HTTP_TIMEOUT))
    return streamable_http_client(config.url, http_client=http)


def is_dead_connection(exc: BaseException) -> bool:
    """True when the failure is the connection's (closed pipe, process gone, unknown session), not
    the tool's: an MCP error from a live server says the call was rejected, anything else is fatal."""
    exc = unwrap_group(exc)
    if isinstance(exc, MCPError):
        if exc.code == mcp_types.CONNECTION_CLOSED:
            return True
        return any(marker in exc.message.lower() for marker in _DEAD_SESSION_MARKERS)
    return isinstance(exc, Exception)


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or (isinstance(exc, MCPError) and exc.code == mcp_types.REQUEST_TIMEOUT)


def describe_failure(exc: BaseException) -> str:
    """One readable line for the admin: the innermost real cause, not an exception group."""
    exc = unwrap_group(exc)
    if isinstance(exc, MCPError):
        return f"MCP error {exc.code}: {exc.message}"
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def unwrap_group(exc: BaseException) -> BaseException:
    """anyio task groups wrap failures in groups; the first leaf is the one worth reporting."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def outcome_from_result(result: mcp_types.CallToolResult) -> ToolOutcome:
    """Text blocks joined; other blocks named so the model knows they were there; structured content
    kept as data (and used as the text when the server sent no text at all)."""
    parts = [_block_text(block) for block in result.content]
    text = "\n".join(part for part in parts if part)
    data = result.structured_content
    if not text and data is not None:
        text = json.dumps(data, ensure_ascii=False, default=str)
    return ToolOutcome(content=text, is_error=bool(result.is_error), data=data)


def _block_text(block: object) -> str:
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        kind = "image" if isinstance(block, mcp_types.ImageContent) else "audio"
        return f"[{kind} {block.mime_type}, {len(block.data) * 3 // 4} bytes]"
    if isinstance(block, mcp_types.ResourceLink):
        return f"[resource {block.uri}]"
    if isinstance(block, mcp_types.EmbeddedResource):
        inner = block.resource
        if isinstance(inner, mcp_types.TextResourceContents):
            return inner.text
        return f"[resource {inner.uri}]"
    return f"[{type(block).__name__}]"
