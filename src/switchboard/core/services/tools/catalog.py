"""Tools outside a chat: what a user may see and run by hand, and the administrator's MCP servers.

What a user sees is what the model would be offered in that user's chats: the administrator's
allow-list (ToolPolicy.allowed) and the user's own (`user.settings["tools"]`), both by tool name or
category; a tool that cannot run for them is listed with the reason why, and refused when run by
hand. MCP servers come from the config file (Claude-desktop `mcpServers` shape); edits made at
runtime are saved in the settings table under `mcpServers` (the whole map) and win over the file's
entries on the next start. A file entry deleted at runtime stays deleted (`mcpServersRemoved`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from switchboard.core.domain.errors import Forbidden, InvalidInput, NotFound
from switchboard.core.domain.mcp import McpServerConfig, McpServerStatus, validate_server_name
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec
from switchboard.core.domain.users import Principal
from switchboard.core.ports.mcp import McpRegistry
from switchboard.core.ports.push import ChangeAnnouncer
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.tools import ValidatingToolHost
from switchboard.core.services.accounts.guards import require_admin
from switchboard.core.services.tools.runner import ToolRunner

log = logging.getLogger(__name__)

MCP_SETTINGS_KEY = "mcpServers"
MCP_REMOVED_KEY = "mcpServersRemoved"


class ToolService:
    def __init__(self, uow: UnitOfWork, runner: ToolRunner, host: ValidatingToolHost | None) -> None:
        self._uow = uow
        self._runner = runner
        self._host = host

    async def list(self, principal: Principal, category: str | None = None) -> list[ToolSpec]:
        async with self._uow() as tx:
            user = await tx.users.get(principal.user_id)
        own = user.settings.get("tools") if user else None
        specs = await self._runner.listed([str(t) for t in own] if isinstance(own, list) else None, principal)
        if category:
            specs = [s for s in specs if s.category == category]
        return specs

    async def get(self, principal: Principal, name: str) -> ToolSpec:
        for spec in await self.list(principal):
            if spec.name == name:
                return spec
        raise NotFound(f"no tool named '{name}'", param="name")

    async def execute(self, principal: Principal, name: str, arguments: Any) -> ToolOutcome:
        """Runs one tool with the caller's rights. InvalidInput (naming the field) when the arguments
        do not match the tool's schema; a failing tool is an error outcome, not an exception."""
        spec = await self.get(principal, name)
        if spec.unavailable is not None:
            raise Forbidden(f"{name} is unavailable: {spec.unavailable}", param="name")
        if self._host is None:
            raise NotFound(f"no tool named '{name}'", param="name")
        if not isinstance(arguments, dict):
            raise InvalidInput(f"{name}: the arguments must be a JSON object", param="arguments")
        await self._host.check_arguments(name, arguments)
        ctx = ToolContext(principal.user_id, None, self._runner.policy.allow_private_network)
        return await self._host.call(name, arguments, ctx)


class McpAdminService:
    """The MCP servers' admin operations (native /api/admin/mcp, MuseBot /mcp/*). Admins only."""

    def __init__(self, uow: UnitOfWork, registry: McpRegistry) -> None:
        self._uow = uow
        self._registry = registry
        self.announcer: ChangeAnnouncer | None = None  # other workers follow() when told

    async def startup_configs(self, file_entries: Mapping[str, Any]) -> dict[str, McpServerConfig]:
        """The servers to start with: the file's entries, minus those deleted at runtime, overridden
        by those saved at runtime. A broken entry is logged and skipped, never fatal."""
        async with self._uow() as tx:
            saved = _server_map(await tx.settings.get(MCP_SETTINGS_KEY))
            removed = set(await tx.settings.get(MCP_REMOVED_KEY) or [])
        entries = {n: e for n, e in file_entries.items() if n not in removed and n not in saved} | saved
        configs: dict[str, McpServerConfig] = {}
        for name, entry in entries.items():
            try:
                configs[name] = McpServerConfig.model_validate(entry)
            except ValidationError as exc:
                log.warning("MCP server %r ignored: %s", name, _first_error(exc))
        return configs

    async def follow(self, file_entries: Mapping[str, Any]) -> None:
        """Another worker changed the servers: start, restart or stop ours to match what it saved."""
        wanted = await self.startup_configs(file_entries)
        running = {s.name: s.config for s in await self._registry.statuses()}
        for name in running.keys() - wanted.keys():
            await self._registry.remove(name)
        for name, config in wanted.items():
            if running.get(name) != config:
                await self._registry.upsert(name, config)

    # every status leaving this service is redacted: env and headers often hold API tokens
    async def statuses(self, principal: Principal) -> list[McpServerStatus]:
        require_admin(principal)
        return [s.redacted() for s in await self._registry.statuses()]

    async def upsert(self, principal: Principal, name: str, entry: Mapping[str, Any]) -> McpServerStatus:
        require_admin(principal)
        validate_server_name(name)
        try:
            config = McpServerConfig.model_validate(dict(entry))
        except ValidationError as exc:
            raise InvalidInput(f"MCP server '{name}': {_first_error(exc)}", param="config") from exc
        previous = next((s.config for s in await self._registry.statuses() if s.name == name), None)
        status = await self._registry.upsert(name, config.keeping_secrets_of(previous))
        await self._save(restored=name)
        return status.redacted()

    async def set_disabled(self, principal: Principal, name: str, disabled: bool) -> McpServerStatus:
        require_admin(principal)
        status = await self._registry.set_disabled(name, disabled)
        await self._save()
        return status.redacted()

    async def remove(self, principal: Principal, name: str) -> None:
        require_admin(principal)
        await self._registry.remove(name)
        await self._save(removed=name)

    async def reconnect_all(self, principal: Principal) -> list[McpServerStatus]:
        require_admin(principal)
        return [s.redacted() for s in await self._registry.reconnect_all()]

    async def _save(self, removed: str | None = None, restored: str | None = None) -> None:
        servers = {
            s.name: s.config.model_dump(mode="json", exclude_defaults=True) for s in await self._registry.statuses()
        }
        async with self._uow() as tx:
            await tx.settings.put(MCP_SETTINGS_KEY, servers)
            if removed is not None or restored is not None:
                gone: set[str] = set(await tx.settings.get(MCP_REMOVED_KEY) or [])
                gone.discard(restored or "")
                if removed is not None:
                    gone.add(removed)
                await tx.settings.put(MCP_REMOVED_KEY, sorted(gone))
        if self.announcer is not None:
            self.announcer.announce("mcp")


def _server_map(value: Any) -> dict[str, Any]:
    """A saved map, either bare `{name: entry}` or wrapped `{"mcpServers": {...}}`."""
    if not isinstance(value, dict):
        return {}
    inner = value.get("mcpServers")
    return dict(inner) if isinstance(inner, dict) else dict(value)


def _first_error(exc: ValidationError) -> str:
    problem = exc.errors()[0]
    where = ".".join(str(p) for p in problem.get("loc", ()))
    message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
