"""Real MCP servers for tests: our SDK-written test server (stdio, streamable HTTP, legacy SSE) and
the npm reference server @modelcontextprotocol/server-everything, pinned in tests/support/mcp.

Import the fixtures into a test module (`from tests.support.mcp_servers import mcp_http_url`) or
register this module as a pytest plugin. Outside fixtures, `serve_over_http()` and
`sdk_server_config()` work on their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from switchboard.adapters.tools.mcp_host import McpToolHost
from switchboard.core.domain.mcp import McpServerConfig

SUPPORT_DIR = Path(__file__).resolve().parent
TEST_SERVER_SCRIPT = SUPPORT_DIR / "mcp_test_server.py"
NPM_DIR = SUPPORT_DIR / "mcp"
EVERYTHING_BIN = NPM_DIR / "node_modules" / ".bin" / "mcp-server-everything"

# Small enough that crash/reconnect tests take well under a second of waiting.
FAST_TIMINGS = {  # fast to notice and retry; generous to wait, since a busy 2-core machine
    "call_timeout_s": 20.0,  # needs seconds to start a Python MCP server again (a reconnect waits this)
    "connect_timeout_s": 20.0,
    "backoff_initial_s": 0.3,
    "backoff_max_s": 1.0,
    "health_interval_s": 0.2,
    "stop_grace_s": 5.0,
}


def sdk_server_config(**overrides: object) -> McpServerConfig:
    """The SDK test server as a stdio entry, run by this interpreter."""
    entry: dict[str, object] = {"command": sys.executable, "args": [str(TEST_SERVER_SCRIPT), "stdio"]}
    return McpServerConfig.model_validate(entry | overrides)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], within_s: float = 15.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"MCP test server exited early with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"MCP test server did not listen on port {port} within {within_s}s")


@contextlib.contextmanager
def serve_over_http(mode: str = "http") -> Iterator[str]:
    """Runs the test server in a child process (`http`: streamable HTTP, `sse`: legacy SSE) on a free
    127.0.0.1 port and yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(TEST_SERVER_SCRIPT), mode, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/{'sse' if mode == 'sse' else 'mcp'}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ensure_everything_server() -> Path:
    """Installs the pinned npm reference server once (`npm ci`, under a lock so parallel workers
    don't race) and returns its binary. It runs offline afterwards."""
    if EVERYTHING_BIN.exists():
        return EVERYTHING_BIN
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    with open(NPM_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not EVERYTHING_BIN.exists():
            subprocess.run(
                [npm, "ci", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund"],
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=300,
            )
    return EVERYTHING_BIN


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0; it is gone for our purposes once it no longer runs.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"
    return True


@pytest.fixture
def mcp_http_url() -> Iterator[str]:
    with serve_over_http("http") as url:
        yield url


@pytest.fixture
def mcp_sse_url() -> Iterator[str]:
    with serve_over_http("sse") as url:
        yield url


@pytest.fixture(scope="session")
def everything_bin() -> Path:
    return ensure_everything_server()


@pytest_asyncio.fixture
async def mcp_host() -> AsyncIterator[McpToolHost]:
    """An empty host with fast timings, closed (children stopped) after the test."""
    host = McpToolHost(**FAST_TIMINGS)
    try:
        yield host
    finally:
        await host.close()
