"""CompositeToolHost: built-ins and MCP servers behind one ToolHost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from switchboard.adapters.tools.composite import CompositeToolHost
from switchboard.adapters.tools.mcp_host import McpToolHost
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec
from tests.support.mcp_servers import FAST_TIMINGS, sdk_server_config

pytest_plugins = ["tests.support.mcp_servers"]  # fixtures: mcp_host

CTX = ToolContext(user_id=1)


class InMemoryToolHost:
    """A stand-in for the built-in tools: answers with its own label so routing is visible."""

    def __init__(self, label: str, *names: str) -> None:
        self.label = label
        self._specs = [ToolSpec(name=name, description=name, parameters={}, category="test") for name in names]

    async def specs(self) -> list[ToolSpec]:
        return list(self._specs)

    async def call(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        if name not in {spec.name for spec in self._specs}:
            raise NotFound(name)
        return ToolOutcome(content=f"{self.label}:{name}")


async def test_specs_are_merged_and_the_first_host_wins_a_clash(mcp_host: McpToolHost) -> None:
    await mcp_host.upsert("local", sdk_server_config())
    builtin = InMemoryToolHost("builtin", "web_search", "local__echo")
    composite = CompositeToolHost(builtin, mcp_host)

    specs = await composite.specs()
    names = [spec.name for spec in specs]
    assert len(names) == len(set(names)) == 7  # 2 built-ins + 6 MCP tools, one shadowed
    assert next(spec for spec in specs if spec.name == "local__echo").category == "test"


async def test_calls_are_routed_to_the_owner(mcp_host: McpToolHost) -> None:
    await mcp_host.upsert("local", sdk_server_config())
    composite = CompositeToolHost(InMemoryToolHost("builtin", "web_search", "local__echo"), mcp_host)

    assert (await composite.call("web_search", {}, CTX)).content == "builtin:web_search"
    assert (await composite.call("local__echo", {"text": "hi"}, CTX)).content == "builtin:local__echo"
    assert (await composite.call("local__add", {"a": 1, "b": 2}, CTX)).content == "3"
    with pytest.raises(NotFound):
        await composite.call("nobody__has_this", {}, CTX)


async def test_a_tool_of_a_server_that_is_down_is_an_error_not_unknown() -> None:
    # A long backoff keeps the crashed server down for the length of the test.
    host = McpToolHost(**(FAST_TIMINGS | {"backoff_initial_s": 30.0}))
    try:
        await host.upsert("local", sdk_server_config())
        composite = CompositeToolHost(InMemoryToolHost("builtin"), host)
        await composite.call("local__crash", {}, CTX)
        for _ in range(250):  # the health check marks it down; its tools are then unlisted
            if not await composite.specs():
                break
            await asyncio.sleep(0.02)
        assert await composite.specs() == []

        outcome = await composite.call("local__echo", {"text": "x"}, CTX)
        assert outcome.is_error and "local" in outcome.content and "unavailable" in outcome.content
    finally:
        await host.close()
