"""Who is offered a tool that runs code (ToolPolicy.code_users), and a tool its host reports off."""

from __future__ import annotations

from typing import Any

from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.tools.runner import ToolPolicy, ToolRunner

SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
LIMITED = "running code is limited to administrators and the users they allow"


class Host:
    """A code tool, a plain tool and (when `off`) a tool its host cannot run."""

    def __init__(self, off: str | None = None) -> None:
        self._specs = [
            ToolSpec("run_python", "runs code", SCHEMA, "code", runs_code=True, unavailable=off),
            ToolSpec("calculate", "adds up", SCHEMA, "code"),
        ]

    async def specs(self) -> list[ToolSpec]:
        return self._specs

    async def call(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        raise AssertionError("listing never calls a tool")


def who(username: str, role: Role = Role.USER, scopes: frozenset[Scope] = frozenset({Scope.CHAT})) -> Principal:
    return Principal(user_id=1, username=username, role=role, scopes=scopes, via="api_key")


ADMIN = who("root", Role.ADMIN)  # a chat-only key of an administrator: still an administrator
ALICE, BOB = who("alice"), who("bob")


async def names(runner: ToolRunner, principal: Principal | None) -> list[str]:
    return [s.name for s in await runner.offered(None, principal)]


async def test_code_is_for_administrators_unless_the_policy_names_more() -> None:
    default = ToolRunner(Host(), ToolPolicy())
    assert await names(default, ADMIN) == ["run_python", "calculate"]
    assert await names(default, ALICE) == ["calculate"]
    assert await names(default, None) == ["calculate"]  # nobody in particular (the agent's MCP list)

    named = ToolRunner(Host(), ToolPolicy(code_users=frozenset({"alice"})))
    assert (await names(named, ALICE), await names(named, BOB)) == (["run_python", "calculate"], ["calculate"])
    everyone = ToolRunner(Host(), ToolPolicy(code_users=frozenset({"*"})))
    assert await names(everyone, BOB) == ["run_python", "calculate"]


async def test_the_listing_keeps_a_tool_that_cannot_run_with_the_reason() -> None:
    listed = {s.name: s.unavailable for s in await ToolRunner(Host(), ToolPolicy()).listed(None, ALICE)}
    assert listed == {"run_python": LIMITED, "calculate": None}


async def test_a_tool_its_host_reports_off_is_offered_to_nobody_and_keeps_the_hosts_reason() -> None:
    runner = ToolRunner(Host(off="no sandbox"), ToolPolicy(code_users=frozenset({"*"})))
    assert await names(runner, ADMIN) == ["calculate"]
    for principal in (ADMIN, ALICE):
        (spec, _) = await runner.listed(None, principal)
        assert spec.unavailable == "no sandbox"
