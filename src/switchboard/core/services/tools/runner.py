"""The model's hands: which tools it is offered, assembling its streamed tool calls, running them.

A failing, slow or unknown tool never breaks the turn: it becomes an error result the model reads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from switchboard.core.domain.conversations import ToolCall
from switchboard.core.domain.errors import DomainError
from switchboard.core.domain.events import ToolCallArgsDelta, ToolCallDelta, ToolCallStarted, ToolResult
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec, as_seen_by
from switchboard.core.domain.users import Principal
from switchboard.core.ports.tools import ToolHost


@dataclass(frozen=True, slots=True)
class ToolPolicy:
    max_rounds: int = 8
    allowed: frozenset[str] | None = None  # the administrator's allow-list; None = every tool
    allow_private_network: bool = False
    code_users: frozenset[str] = frozenset()  # who may run code besides administrators; "*" = everyone


class ToolCallAssembler:
    """Turns provider deltas (keyed by index, id and name first, arguments in pieces) into events
    and, at the end of a round, into whole ToolCalls."""

    def __init__(self) -> None:
        self._calls: dict[int, list[str]] = {}  # index -> [id, name, arguments...]

    def feed(self, delta: ToolCallDelta) -> list[ToolCallStarted | ToolCallArgsDelta]:
        events: list[ToolCallStarted | ToolCallArgsDelta] = []
        call = self._calls.get(delta.index)
        if call is None:
            call = self._calls[delta.index] = [delta.id or new_id("call"), delta.name or ""]
            events.append(ToolCallStarted(call[0], call[1], delta.index))
        elif delta.name and not call[1]:
            call[1] = delta.name
        if delta.arguments:
            call.append(delta.arguments)
            events.append(ToolCallArgsDelta(call[0], delta.arguments))
        return events

    def calls(self) -> list[ToolCall]:
        return [
            ToolCall(id=c[0], name=c[1], arguments="".join(c[2:]))
            for _, c in sorted(self._calls.items())
        ]


class ToolRunner:
    def __init__(self, host: ToolHost | None, policy: ToolPolicy) -> None:
        self._host = host
        self.policy = policy

    async def offered(self, user_allowed: list[str] | None, principal: Principal | None = None) -> list[ToolSpec]:
        """What the model may be offered: the listed tools that can run for this user."""
        return self.offer(await self.specs(), user_allowed, principal)

    async def specs(self) -> list[ToolSpec]:
        """Every tool the host has now, before any allow-list."""
        return [] if self._host is None else await self._host.specs()

    def offer(
        self, specs: list[ToolSpec], user_allowed: list[str] | None, principal: Principal | None
    ) -> list[ToolSpec]:
        """`offered` over specs fetched already: a chat turn plans inside its storage step, which
        may await nothing but the database."""
        return [s for s in self.visible(specs, user_allowed, principal) if s.unavailable is None]

    async def listed(self, user_allowed: list[str] | None, principal: Principal | None = None) -> list[ToolSpec]:
        """The tools the allow-lists let this user see; one that cannot run for them (off on this
        server, or running code they may not run) says why in `unavailable`."""
        return self.visible(await self.specs(), user_allowed, principal)

    def visible(
        self, specs: list[ToolSpec], user_allowed: list[str] | None, principal: Principal | None
    ) -> list[ToolSpec]:
        if self.policy.allowed is not None:
            specs = [s for s in specs if s.name in self.policy.allowed or s.category in self.policy.allowed]
        if user_allowed is not None:
            specs = [s for s in specs if s.name in user_allowed or s.category in user_allowed]
        return [as_seen_by(s, principal, self.policy.code_users) for s in specs]

    async def run_all(
        self, calls: list[ToolCall], offered: list[ToolSpec], ctx: ToolContext
    ) -> AsyncIterator[ToolResult]:
        """Runs the calls in parallel and yields each result as it finishes."""
        names = {s.name for s in offered}
        tasks = [asyncio.ensure_future(self._run_one(call, names, ctx)) for call in calls]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()

    async def _run_one(self, call: ToolCall, offered: set[str], ctx: ToolContext) -> ToolResult:
        outcome = await self._outcome(call, offered, ctx)
        return ToolResult(call.id, call.name, outcome.content, outcome.is_error)

    async def _outcome(self, call: ToolCall, offered: set[str], ctx: ToolContext) -> ToolOutcome:
        if call.name not in offered or self._host is None:
            return ToolOutcome(f"error: there is no tool named '{call.name}'", is_error=True)
        try:
            arguments = _parse_arguments(call.arguments)
        except ValueError as exc:
            return ToolOutcome(f"error: the arguments are not a JSON object ({exc})", is_error=True)
        try:
            return await self._host.call(call.name, arguments, ctx)
        except DomainError as exc:
            return ToolOutcome(f"error: {exc.message}", is_error=True)
        except Exception as exc:  # a tool must never break the turn
            return ToolOutcome(f"error: the tool failed ({type(exc).__name__}: {exc})", is_error=True)


def _parse_arguments(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected an object")
    return value
