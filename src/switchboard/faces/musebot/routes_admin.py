"""/conf/get, /conf/update, /command/get and /mcp/*: the administrator's runtime settings and MCP servers."""


from fastapi import APIRouter, Request
from starlette.responses import Response

from switchboard.core.services.bundle import Services
from switchboard.faces.musebot.auth import caller
from switchboard.faces.musebot.envelope import ok
from switchboard.faces.musebot.mapping import mcp_servers_out, required, text_param
from switchboard.faces.musebot.schemas import ConfUpdateBody, McpServerBody


def admin_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["musebot"])
    live = services.runtime_config

    @router.get("/conf/get")
    async def get_conf(request: Request) -> Response:
        return ok(live.sections(await caller(services.accounts, request)))

    @router.post("/conf/update")
    async def update_conf(request: Request, body: ConfUpdateBody) -> Response:
        await live.update(await caller(services.accounts, request), body.type, body.key, body.value)
        return ok("")

    @router.get("/command/get")
    async def get_command(request: Request) -> Response:
        flags = live.changed_flags(await caller(services.accounts, request))
        return ok("".join(f"-{name}={value} " for name, value in flags))

    @router.get("/mcp/get")
    async def get_mcp(request: Request) -> Response:
        return ok(mcp_servers_out(await services.mcp.statuses(await caller(services.accounts, request))))

    @router.post("/mcp/update")
    async def update_mcp(request: Request, body: McpServerBody) -> Response:
        principal = await caller(services.accounts, request)
        name = required(text_param(request.query_params, "name"), "name")
        await services.mcp.upsert(principal, name, body.model_dump(exclude_none=True))
        return ok("")

    @router.delete("/mcp/delete")
    @router.post("/mcp/delete", include_in_schema=False)
    async def delete_mcp(request: Request) -> Response:
        principal = await caller(services.accounts, request)
        await services.mcp.remove(principal, required(text_param(request.query_params, "name"), "name"))
        return ok("")

    @router.post("/mcp/disable")
    async def disable_mcp(request: Request) -> Response:
        principal = await caller(services.accounts, request)
        name = required(text_param(request.query_params, "name"), "name")
        disable = (text_param(request.query_params, "disable") or "0").lower()
        await services.mcp.set_disabled(principal, name, disable in ("1", "true"))
        return ok("")

    @router.post("/mcp/sync")
    async def sync_mcp(request: Request) -> Response:
        await services.mcp.reconnect_all(await caller(services.accounts, request))
        return ok("")

    return router
