"""A small MCP server written with the official SDK, for the MCP host's integration tests.

Run it as `python tests/support/mcp_test_server.py stdio`, `... http PORT` (streamable HTTP at /mcp)
or `... sse PORT` (legacy SSE at /sse). Its tools let a test see which process answered (`pid`),
kill that process mid-session (`crash`) and hold a call open (`slow`).
"""

from __future__ import annotations

import os
import sys
import threading

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("switchboard-test", instructions="Tools for Switchboard's MCP host tests.")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def pid() -> int:
    """The process id of this server, so a test can check the process is gone later."""
    return os.getpid()


@server.tool()
def crash() -> str:
    """Exit the whole process shortly after answering, like a server that dies mid-session."""
    # Exit from a timer so the caller may or may not see the answer first; both paths must work.
    threading.Timer(0.05, lambda: os._exit(3)).start()
    return "crashing"


@server.tool()
async def slow(seconds: float) -> str:
    """Sleep, then answer: lets a test run into the host's per-call timeout."""
    await anyio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def fail(message: str) -> str:
    """Always fails, so the result comes back with isError set."""
    raise ToolError(message)


def main(argv: list[str]) -> None:
    mode = argv[1] if len(argv) > 1 else "stdio"
    if mode == "stdio":
        server.run("stdio")
    elif mode == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(argv[2]))
    elif mode == "sse":
        server.run("sse", host="127.0.0.1", port=int(argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}: use stdio, http PORT or sse PORT")


if __name__ == "__main__":
    main(sys.argv)
