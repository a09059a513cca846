"""MCP servers coming and going: crash and reconnect, remove, disable, reconnect all, shutdown."""

from __future__ import annotations

import asyncio
import time

import pytest

from switchboard.adapters.tools.mcp_host import McpToolHost
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.mcp import McpServerStatus
from switchboard.core.domain.tools import ToolContext
from tests.support.mcp_servers import FAST_TIMINGS, pid_alive, sdk_server_config, serve_over_http

pytest_plugins = ["tests.support.mcp_servers"]  # fixtures: mcp_host, mcp_http_url

CTX = ToolContext(user_id=1)


async def _pid(host: McpToolHost, server: str = "local") -> int:
    outcome = await host.call(f"{server}__pid", {}, CTX)
    assert not outcome.is_error, outcome.content
    return int(outcome.content)


async def _status(host: McpToolHost, name: str) -> McpServerStatus:
    return next(status for status in await host.statuses() if status.name == name)


async def _wait_gone(pid: int, within_s: float = 5.0) -> bool:
    for _ in range(int(within_s / 0.02)):
        if not pid_alive(pid):
            return True
        await asyncio.sleep(0.02)
    return not pid_alive(pid)


async def test_crashed_server_goes_to_error_then_reconnects_with_its_tools(mcp_host: McpToolHost) -> None:
    await mcp_host.upsert("local", sdk_server_config())
    first_pid = await _pid(mcp_host)

    await mcp_host.call("local__crash", {}, CTX)
    seen: list[tuple[str, str | None, int]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = await _status(mcp_host, "local")
        seen.append((status.state, status.error, status.tool_count))
        if status.state == "connected" and any(state == "error" for state, _, _ in seen):
            break
        await asyncio.sleep(0.02)

    errors = [(error, tools) for state, error, tools in seen if state == "error"]
    assert errors, f"never saw the error state: {seen[-5:]}"
    assert all(error and tools == 0 for error, tools in errors)
    assert seen[-1] == ("connected", None, 6)
    assert await _wait_gone(first_pid)
    assert len(await mcp_host.specs()) == 6
    assert await _pid(mcp_host) != first_pid


async def test_a_call_on_a_dead_session_reconnects_and_retries_once() -> None:
    # A health check too slow to notice the crash: the call itself must find out and recover.
    host = McpToolHost(**(FAST_TIMINGS | {"health_interval_s": 60.0}))
    try:
        await host.upsert("local", sdk_server_config())
        first_pid = await _pid(host)
        await host.call("local__crash", {}, CTX)
        assert await _wait_gone(first_pid)

        outcome = await host.call("local__echo", {"text": "after the crash"}, CTX)
        assert (outcome.content, outcome.is_error) == ("after the crash", False)
        assert await _pid(host) != first_pid
    finally:
        await host.close()


async def test_http_server_that_goes_away_is_an_error_until_it_returns(mcp_host: McpToolHost) -> None:
    with serve_over_http("http") as url:
        assert (await mcp_host.upsert("remote", sdk_server_config(command=None, args=[], url=url))).state == (
            "connected"
        )
    # The server process is gone: the health check notices, and a call gets a readable error.
    for _ in range(200):
        if (await _status(mcp_host, "remote")).state == "error":
            break
        await asyncio.sleep(0.02)
    status = await _status(mcp_host, "remote")
    assert status.state == "error" and status.error
    outcome = await mcp_host.call("remote__echo", {"text": "x"}, CTX)
    assert outcome.is_error and "remote" in outcome.content


async def test_removing_a_server_stops_its_process_and_drops_its_tools(mcp_host: McpToolHost) -> None:
    await mcp_host.upsert("local", sdk_server_config())
    await mcp_host.upsert("other", sdk_server_config())
    pid = await _pid(mcp_host)

    await mcp_host.remove("local")
    assert await _wait_gone(pid)
    assert [status.name for status in await mcp_host.statuses()] == ["other"]
    assert {spec.source for spec in await mcp_host.specs()} == {"mcp:other"}
    with pytest.raises(NotFound):
        await mcp_host.call("local__pid", {}, CTX)
    with pytest.raises(NotFound):
        await mcp_host.remove("local")


async def test_close_stops_every_child_process() -> None:
    host = McpToolHost(**FAST_TIMINGS)
    await host.start({"a": sdk_server_config(), "b": sdk_server_config()})
    pids = [await _pid(host, "a"), await _pid(host, "b")]
    await host.close()
    assert not any(pid_alive(pid) for pid in pids)


async def test_disable_then_enable(mcp_host: McpToolHost) -> None:
    await mcp_host.upsert("local", sdk_server_config())
    pid = await _pid(mcp_host)

    disabled = await mcp_host.set_disabled("local", True)
    assert (disabled.state, disabled.tool_count, disabled.config.disabled) == ("disabled", 0, True)
    assert await _wait_gone(pid)
    assert await mcp_host.specs() == []

    enabled = await mcp_host.set_disabled("local", False)
    assert (enabled.state, enabled.tool_count, enabled.config.disabled) == ("connected", 6, False)
    assert await _pid(mcp_host) != pid
    with pytest.raises(NotFound):
        await mcp_host.set_disabled("missing", True)


async def test_upsert_replaces_a_running_server(mcp_host: McpToolHost, mcp_http_url: str) -> None:
    await mcp_host.upsert("srv", sdk_server_config())
    pid = await _pid(mcp_host, "srv")
    status = await mcp_host.upsert("srv", sdk_server_config(command=None, args=[], url=mcp_http_url))
    assert (status.state, status.transport) == ("connected", "http")
    assert await _wait_gone(pid)


async def test_reconnect_all_restarts_every_enabled_server(mcp_host: McpToolHost) -> None:
    await mcp_host.upsert("a", sdk_server_config())
    await mcp_host.upsert("off", sdk_server_config(disabled=True))
    await mcp_host.upsert("broken", sdk_server_config(command="/nonexistent/server"))
    pid = await _pid(mcp_host, "a")

    statuses = {status.name: status for status in await mcp_host.reconnect_all()}
    assert statuses["a"].state == "connected"
    assert statuses["off"].state == "disabled"
    assert statuses["broken"].state == "error"
    assert await _pid(mcp_host, "a") != pid
    assert await _wait_gone(pid)
