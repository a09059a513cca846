"""BuiltinToolHost: the registry, argument validation, timeouts, output limits and failure handling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchboard.adapters.tools.builtin.base import object_schema
from switchboard.adapters.tools.builtin_host import BuiltinToolHost
from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec

CTX = ToolContext(user_id=1)
BUILTIN_NAMES = {
    "fetch_page", "find_in_page", "run_python", "calculate",
    "query_data", "column_stats", "current_weather", "weather_forecast",
}  # fmt: skip


class ScriptedTool:
    """A tool of the host's shape whose behaviour each test picks."""

    def __init__(self, name: str, behaviour: str, *, timeout_s: float = 5.0) -> None:
        self.behaviour = behaviour
        self.spec = ToolSpec(
            name=name,
            description="test tool",
            parameters=object_schema({"size": {"type": "integer", "minimum": 0}}, []),
            category="test",
            timeout_s=timeout_s,
        )

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        if self.behaviour == "sleep":
            await asyncio.sleep(10)
        if self.behaviour == "crash":
            raise RuntimeError("boom")
        return ToolOutcome(content="x" * arguments.get("size", 10), data={"size": arguments.get("size", 10)})


@pytest.fixture
async def host() -> AsyncIterator[BuiltinToolHost]:
    host = BuiltinToolHost(
        output_limit_chars=100,
        extra_tools=[
            ScriptedTool("sleepy", "sleep", timeout_s=0.2),
            ScriptedTool("crashy", "crash"),
            ScriptedTool("echo_size", "echo"),
        ],
    )
    yield host
    await host.close()


async def test_specs_describe_every_builtin_tool() -> None:
    host = BuiltinToolHost()
    specs = await host.specs()
    by_name = {spec.name: spec for spec in specs}
    assert set(by_name) == BUILTIN_NAMES
    categories = {spec.category for spec in specs}
    assert categories == {"crawler", "code", "data", "weather"}
    for spec in specs:
        assert spec.source == "builtin" and spec.timeout_s > 0 and spec.description
        assert spec.parameters["type"] == "object" and spec.parameters["additionalProperties"] is False
        assert spec.to_openai()["function"]["name"] == spec.name
    assert by_name["fetch_page"].parameters["required"] == ["url"]
    await host.close()


async def test_admin_allow_list_limits_the_tools() -> None:
    host = BuiltinToolHost(enabled=["calculate", "query_data"])
    assert {spec.name for spec in await host.specs()} == {"calculate", "query_data"}
    with pytest.raises(NotFound):
        await host.call("run_python", {"code": "print(1)"}, CTX)
    await host.close()


def test_two_tools_with_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="calculate"):
        BuiltinToolHost(extra_tools=[ScriptedTool("calculate", "echo")])


@pytest.mark.parametrize(
    ("name", "arguments", "field", "message"),
    [
        ("fetch_page", {}, "url", "missing required argument 'url'"),
        ("fetch_page", {"url": 42}, "url", "invalid argument 'url': 42 is not of type 'string'"),
        ("fetch_page", {"url": "http://x", "max_chars": 10}, "max_chars", "10 is less than the minimum of 200"),
        ("fetch_page", {"url": "http://x", "colour": "red"}, "colour", "unknown argument 'colour'"),
        ("query_data", {"sql": "SELECT 1", "format": "xml"}, "format", "invalid argument 'format'"),
        ("calculate", "1+1", "arguments", "must be a JSON object"),
    ],
)
def test_validate_names_the_bad_field(host, name: str, arguments: Any, field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        host.validate(name, arguments)
    assert caught.value.param == field
    assert message in caught.value.message and caught.value.message.startswith(name)


def test_validate_accepts_good_arguments_and_long_values_are_cut_in_messages(host) -> None:
    host.validate("calculate", {"expression": "1 + 1"})
    with pytest.raises(InvalidInput) as caught:
        host.validate("calculate", {"expression": "9" * 5000})
    assert len(caught.value.message) < 400


async def test_unknown_tools_are_not_found(host) -> None:
    with pytest.raises(NotFound):
        await host.call("no_such_tool", {}, CTX)
    with pytest.raises(NotFound):
        host.validate("no_such_tool", {})
    with pytest.raises(NotFound):
        host.spec("no_such_tool")


async def test_invalid_arguments_come_back_as_an_error_outcome(host) -> None:
    outcome = await host.call("calculate", {"expression": 12}, CTX)
    assert outcome.is_error and "invalid argument 'expression'" in outcome.content


async def test_a_slow_tool_times_out_into_an_error_outcome(host) -> None:
    started = asyncio.get_running_loop().time()
    outcome = await host.call("sleepy", {}, CTX)
    assert outcome == ToolOutcome(content="sleepy timed out after 0.2s", is_error=True)
    assert asyncio.get_running_loop().time() - started < 1


async def test_a_crashing_tool_becomes_an_error_outcome(host) -> None:
    outcome = await host.call("crashy", {}, CTX)
    assert outcome.is_error and "RuntimeError: boom" in outcome.content


async def test_long_output_is_truncated_and_says_so(host) -> None:
    short = await host.call("echo_size", {"size": 100}, CTX)
    assert short.content == "x" * 100
    long = await host.call("echo_size", {"size": 5000}, CTX)
    assert long.content == "x" * 100 + "\n[output truncated: showing 100 of 5000 characters]"
    assert long.data == {"size": 5000} and not long.is_error


async def test_close_is_safe_to_repeat(host) -> None:
    await host.close()
    await host.close()
