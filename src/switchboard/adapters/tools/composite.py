"""Several tool hosts (built-ins, MCP servers, ...) behind one ToolHost."""

from __future__ import annotations

from typing import Any

from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec
from switchboard.core.ports.tools import ValidatingToolHost


class CompositeToolHost:
    """Merges the hosts' tools; on a name clash the host given first wins, for listing and calling."""

    def __init__(self, *hosts: ValidatingToolHost) -> None:
        self._hosts = hosts

    async def specs(self) -> list[ToolSpec]:
        merged: dict[str, ToolSpec] = {}
        for host in self._hosts:
            for spec in await host.specs():
                merged.setdefault(spec.name, spec)
        return list(merged.values())

    async def check_arguments(self, name: str, arguments: dict[str, Any]) -> None:
        for host in self._hosts:
            if any(spec.name == name for spec in await host.specs()):
                await host.check_arguments(name, arguments)
                return
        raise NotFound(f"no tool named {name!r}")

    async def call(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        # The host listing the name owns it, so a shadowed tool is never reached by name.
        for host in self._hosts:
            if any(spec.name == name for spec in await host.specs()):
                return await host.call(name, arguments, ctx)
        # Unlisted right now (an MCP server reconnecting): a host that still knows the name answers
        # with a readable error outcome rather than the model being told the tool does not exist.
        for host in self._hosts:
            try:
                return await host.call(name, arguments, ctx)
            except NotFound:
                continue
        raise NotFound(f"no tool named {name!r}")
