"""/api/tools (seed 004; scope `chat`) and the administrator's MCP servers under /api/admin/mcp (`admin`)."""


from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from starlette.responses import Response

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.mcp import McpServerStatus
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import failure, ok
from switchboard.faces.native.mapping import mcp_status_out, tool_out, tool_run_out, tools_out
from switchboard.faces.native.schemas import McpServerBody


def tools_router(services: Services) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal_dependency(services, Scope.CHAT))]
    Admin = Annotated[Principal, Depends(principal_dependency(services, Scope.ADMIN))]
    tools, mcp = services.tool_service, services.mcp

    @router.get("/api/tools", tags=["tools"])
    @router.get("/api/tools/", include_in_schema=False)
    async def list_tools(principal: Caller, category: str | None = None) -> Response:
        return ok(tools_out(await tools.list(principal, category or None)))

    @router.get("/api/tools/{name}", tags=["tools"])
    async def get_tool(principal: Caller, name: str) -> Response:
        return ok(tool_out(await tools.get(principal, name)))

    @router.post("/api/tools/{name}/execute", tags=["tools"])
    async def execute_tool(
        principal: Caller, name: str, arguments: Annotated[dict[str, Any] | None, Body()] = None
    ) -> Response:
        try:
            outcome = await tools.execute(principal, name, arguments or {})
        except InvalidInput as exc:  # arguments that do not fit the tool's schema
            return failure(422, exc.message, exc.code)
        return ok(tool_run_out(name, outcome))

    async def status_out(statuses: list[McpServerStatus]) -> list[dict[str, Any]]:
        specs = await services.tools.offered(None)
        return [mcp_status_out(s, specs) for s in statuses]

    @router.get("/api/admin/mcp", tags=["admin"])
    async def list_mcp_servers(principal: Admin) -> Response:
        return ok(await status_out(await mcp.statuses(principal)))

    @router.put("/api/admin/mcp/{name}", tags=["admin"])
    async def upsert_mcp_server(principal: Admin, name: str, body: McpServerBody) -> Response:
        entry = body.model_dump(exclude_none=True)
        status = await mcp.upsert(principal, name, entry)
        return ok((await status_out([status]))[0], "MCP server saved")

    @router.post("/api/admin/mcp/reconnect", tags=["admin"])
    async def reconnect_mcp_servers(principal: Admin) -> Response:
        return ok(await status_out(await mcp.reconnect_all(principal)), "MCP servers reconnected")

    @router.post("/api/admin/mcp/{name}/disable", tags=["admin"])
    async def disable_mcp_server(principal: Admin, name: str) -> Response:
        return ok((await status_out([await mcp.set_disabled(principal, name, True)]))[0])

    @router.post("/api/admin/mcp/{name}/enable", tags=["admin"])
    async def enable_mcp_server(principal: Admin, name: str) -> Response:
        return ok((await status_out([await mcp.set_disabled(principal, name, False)]))[0])

    @router.delete("/api/admin/mcp/{name}", tags=["admin"])
    async def delete_mcp_server(principal: Admin, name: str) -> Response:
        await mcp.remove(principal, name)
        return ok(message="MCP server deleted")

    return router
