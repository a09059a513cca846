"""/conf/get, /conf/update, /command/get and /mcp/*: the administrator's runtime settings and MCP
servers (scope `admin`). Every route takes any method, as MuseBot's do (its console sends
`GET /mcp/delete`); parameters come from the query string (or a form/JSON body)."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.trusted import TrustedCaller
from switchboard.faces.musebot.auth import basic_credentials, principal_dependency
from switchboard.faces.musebot.conf import FIXED, musebot_sections, switchboard_setting
from switchboard.faces.musebot.envelope import ok
from switchboard.faces.musebot.mapping import mcp_servers_out, required, text_param
from switchboard.faces.musebot.routing import any_method, fields_of
from switchboard.faces.musebot.schemas import ConfUpdateBody, McpServerBody


def admin_router(services: Services, trusted: TrustedCaller | None) -> APIRouter:
    router = APIRouter(tags=["musebot"])
    live = services.runtime_config
    Admin = Annotated[Principal, Depends(principal_dependency(services.accounts, Scope.ADMIN, trusted))]

    @any_method(router, "/conf/get", "GET")
    async def get_conf(principal: Admin) -> Response:
        return ok(musebot_sections(live.sections(principal)))

    @any_method(router, "/conf/update", "POST")
    async def update_conf(principal: Admin, body: ConfUpdateBody) -> Response:
        setting = switchboard_setting(body.type, body.key, body.value) or (body.type, body.key, body.value)
        await live.update(principal, *setting)
        return ok("")

    @any_method(router, "/command/get", "GET")
    async def get_command(principal: Admin, request: Request) -> Response:
        # the console reads the bot's name and address from these flags when a bot is edited
        flags = [("bot_name", str(FIXED[("base", "bot_name")])), ("http_host", _own_address(request)),
                 *live.changed_flags(principal)]
        return ok("".join(f"-{name}={value} " for name, value in flags))

    @any_method(router, "/mcp/get", "GET")
    async def get_mcp(principal: Admin) -> Response:
        return ok(mcp_servers_out(await services.mcp.statuses(principal)))

    @any_method(router, "/mcp/update", "POST")
    async def update_mcp(principal: Admin, request: Request, body: McpServerBody) -> Response:
        name = required(text_param(request.query_params, "name"), "name")
        await services.mcp.upsert(principal, name, body.model_dump(exclude_none=True))
        return ok("")

    @any_method(router, "/mcp/delete", "DELETE", "GET")
    async def delete_mcp(principal: Admin, request: Request) -> Response:
        name = required(text_param(await fields_of(request), "name"), "name")
        try:
            await services.mcp.remove(principal, name)
        except NotFound:
            pass  # MuseBot deletes a name it does not have without complaint
        return ok("")

    @any_method(router, "/mcp/disable", "POST", "GET")
    async def disable_mcp(principal: Admin, request: Request) -> Response:
        fields = await fields_of(request)
        name = required(text_param(fields, "name"), "name")
        disable = (text_param(fields, "disable") or "0").lower()
        await services.mcp.set_disabled(principal, name, disable in ("1", "true"))
        return ok("")

    @any_method(router, "/mcp/sync", "POST", "GET")
    async def sync_mcp(principal: Admin) -> Response:
        await services.mcp.reconnect_all(principal)
        return ok("")

    return router


def _own_address(request: Request) -> str:
    """This server as the caller reached it; with the Basic credentials it sent (the key is the
    caller's own), so a bot the console saves from these flags keeps working."""
    user, key = basic_credentials(request.headers.get("authorization"))
    userinfo = f"{quote(user, safe='')}{':' + quote(key, safe='') if key else ''}@" if user else ""
    return f"{request.url.scheme}://{userinfo}{request.url.netloc.rpartition('@')[2]}"
