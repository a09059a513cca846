"""/conf/get, /conf/update, /command/get and /mcp/*: the administrator's runtime settings and MCP
servers (scope `admin`)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces.musebot.auth import principal_dependency
from switchboard.faces.musebot.envelope import ok
from switchboard.faces.musebot.mapping import mcp_servers_out, required, text_param
from switchboard.faces.musebot.schemas import ConfUpdateBody, McpServerBody


def admin_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["musebot"])
    live = services.runtime_config
    Admin = Annotated[Principal, Depends(principal_dependency(services.accounts, Scope.ADMIN))]

    @router.get("/conf/get")
    async def get_conf(principal: Admin) -> Response:
        return ok(live.sections(principal))

    @router.post("/conf/update")
    async def update_conf(principal: Admin, body: ConfUpdateBody) -> Response:
        await live.update(principal, body.type, body.key, body.value)
        return ok("")

    @router.get("/command/get")
    async def get_command(principal: Admin) -> Response:
        flags = live.changed_flags(principal)
        return ok("".join(f"-{name}={value} " for name, value in flags))

    @router.get("/mcp/get")
    async def get_mcp(principal: Admin) -> Response:
        return ok(mcp_servers_out(await services.mcp.statuses(principal)))

    @router.post("/mcp/update")
    async def update_mcp(principal: Admin, request: Request, body: McpServerBody) -> Response:
        name = required(text_param(request.query_params, "name"), "name")
        await services.mcp.upsert(principal, name, body.model_dump(exclude_none=True))
        return ok("")

    @router.delete("/mcp/delete")
    @router.post("/mcp/delete", include_in_schema=False)
    async def delete_mcp(principal: Admin, request: Request) -> Response:
        await services.mcp.remove(principal, required(text_param(request.query_params, "name"), "name"))
        return ok("")

    @router.post("/mcp/disable")
    async def disable_mcp(principal: Admin, request: Request) -> Response:
        name = required(text_param(request.query_params, "name"), "name")
        disable = (text_param(request.query_params, "disable") or "0").lower()
        await services.mcp.set_disabled(principal, name, disable in ("1", "true"))
        return ok("")

    @router.post("/mcp/sync")
    async def sync_mcp(principal: Admin) -> Response:
        await services.mcp.reconnect_all(principal)
        return ok("")

    return router
