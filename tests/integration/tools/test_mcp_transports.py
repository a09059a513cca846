"""The MCP host against real servers over each transport: tools listed with prefixed names and callable."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.adapters.tools.mcp_host import McpToolHost
from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.domain.mcp import McpServerConfig
from switchboard.core.domain.tools import ToolContext
from tests.support.mcp_servers import free_port, sdk_server_config

pytest_plugins = ["tests.support.mcp_servers"]  # fixtures: mcp_host, mcp_http_url, mcp_sse_url, everything_bin

CTX = ToolContext(user_id=1)
TEST_TOOLS = {"add", "echo", "pid", "crash", "slow", "fail"}


async def _assert_test_server_works(host: McpToolHost, server: str) -> None:
    specs = {spec.name: spec for spec in await host.specs()}
    assert set(specs) == {f"{server}__{tool}" for tool in TEST_TOOLS}
    add = specs[f"{server}__add"]
    assert (add.category, add.source) == ("mcp", f"mcp:{server}")
    assert add.parameters["properties"].keys() == {"a", "b"}
    assert add.description == "Add two integers."

    outcome = await host.call(f"{server}__add", {"a": 2, "b": 40}, CTX)
    assert (outcome.content, outcome.is_error, outcome.data) == ("42", False, {"result": 42})


async def test_stdio_server_tools_are_listed_prefixed_and_callable(mcp_host: McpToolHost) -> None:
    status = await mcp_host.upsert("local", sdk_server_config())
    assert (status.state, status.transport, status.tool_count, status.error) == ("connected", "stdio", 6, None)
    await _assert_test_server_works(mcp_host, "local")


async def test_streamable_http_server(mcp_host: McpToolHost, mcp_http_url: str) -> None:
    status = await mcp_host.upsert("remote", McpServerConfig(url=mcp_http_url, headers={"X-Test": "1"}))
    assert (status.state, status.transport) == ("connected", "http")
    await _assert_test_server_works(mcp_host, "remote")


async def test_legacy_sse_server(mcp_host: McpToolHost, mcp_sse_url: str) -> None:
    status = await mcp_host.upsert("legacy", McpServerConfig(url=mcp_sse_url))
    assert (status.state, status.transport) == ("connected", "sse")
    await _assert_test_server_works(mcp_host, "legacy")


async def test_reference_everything_server_over_stdio(mcp_host: McpToolHost, everything_bin: Path) -> None:
    config = McpServerConfig(command=str(everything_bin), args=["stdio"])
    status = await mcp_host.upsert("everything", config)
    assert status.state == "connected", status.error
    names = {spec.name for spec in await mcp_host.specs()}
    assert {"everything__echo", "everything__get-sum"} <= names

    outcome = await mcp_host.call("everything__echo", {"message": "hi there"}, CTX)
    assert (outcome.content, outcome.is_error) == ("Echo: hi there", False)


async def test_start_connects_every_enabled_server(mcp_http_url: str) -> None:
    host = McpToolHost(health_interval_s=0.2)
    try:
        await host.start(
            {
                "a": sdk_server_config(),
                "b": McpServerConfig(url=mcp_http_url),
                "off": sdk_server_config(disabled=True),
                "bad name!": sdk_server_config(),
            }
        )
        states = {status.name: (status.state, status.error) for status in await host.statuses()}
        assert states["a"] == ("connected", None)
        assert states["b"] == ("connected", None)
        assert states["off"] == ("disabled", None)
        assert states["bad name!"][0] == "error" and "name" in (states["bad name!"][1] or "")
        assert len(await host.specs()) == 12
    finally:
        await host.close()


async def test_tool_error_result_is_an_error_outcome(mcp_host: McpToolHost) -> None:
    await mcp_host.upsert("local", sdk_server_config())
    outcome = await mcp_host.call("local__fail", {"message": "boom"}, CTX)
    assert outcome.is_error and "boom" in outcome.content


async def test_bad_arguments_and_slow_tools_become_error_outcomes() -> None:
    host = McpToolHost(call_timeout_s=0.5, health_interval_s=0.2)
    try:
        await host.upsert("local", sdk_server_config())
        invalid = await host.call("local__add", {"a": "not a number"}, CTX)
        assert invalid.is_error
        slow = await host.call("local__slow", {"seconds": 3}, CTX)
        assert slow.is_error and "timed out" in slow.content
        # The session is still usable after a timed-out call.
        assert (await host.call("local__echo", {"text": "still here"}, CTX)).content == "still here"
    finally:
        await host.close()


async def test_unknown_tool_is_not_found(mcp_host: McpToolHost) -> None:
    await mcp_host.upsert("local", sdk_server_config())
    with pytest.raises(NotFound):
        await mcp_host.call("local__nope", {}, CTX)
    with pytest.raises(NotFound):
        await mcp_host.call("elsewhere__add", {}, CTX)


async def test_bad_command_is_a_readable_error_status(mcp_host: McpToolHost) -> None:
    status = await mcp_host.upsert("broken", McpServerConfig(command="/nonexistent/mcp-server-binary"))
    assert status.state == "error"
    assert status.error is not None and "nonexistent/mcp-server-binary" in status.error
    assert await mcp_host.specs() == []


async def test_unreachable_url_is_an_error_status(mcp_host: McpToolHost) -> None:
    status = await mcp_host.upsert("gone", McpServerConfig(url=f"http://127.0.0.1:{free_port()}/mcp"))
    assert status.state == "error" and status.error


async def test_invalid_server_name_is_rejected(mcp_host: McpToolHost) -> None:
    with pytest.raises(InvalidInput):
        await mcp_host.upsert("has space", sdk_server_config())
