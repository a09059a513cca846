"""/communicate and /api/communicate, /user/*, /record/list and /pong. Every route takes any method,
as MuseBot's Go `HandleFunc` routes do; parameters are read where MuseBot reads them."""


from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import PlainTextResponse, Response

from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.core.services.commands.slash import CommandStyle
from switchboard.faces._shared.detach import Detacher
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces._shared.trusted import TrustedCaller
from switchboard.faces.musebot.auth import principal_dependency
from switchboard.faces.musebot.envelope import ok
from switchboard.faces.musebot.mapping import page_params, record_out, record_query, required, text_param, user_out
from switchboard.faces.musebot.routes_admin import admin_router
from switchboard.faces.musebot.routing import any_method, fields_of
from switchboard.faces.musebot.schemas import TokenAddBody
from switchboard.faces.musebot.stream import RAW_TEXT_HEADERS, raw_text

PREFIXES = ("/user", "/record", "/communicate", "/api/communicate", "/conf", "/command", "/mcp", "/pong")
PLATFORM = "musebot"
DEFAULT_WEB_USER = "0"  # /communicate without user_id: MuseBot's web page speaks as one anonymous user
# MuseBot's web answers: only the media's data URI (its UIs tell media by the prefix), any command it
# does not know chatted with
STYLE = CommandStyle(progress=False, unknown_chats=True)


def musebot_router(services: Services, *, cancel_on_disconnect: bool, detacher: Detacher,
                   trusted: TrustedCaller | None = None) -> APIRouter:
    router = APIRouter(tags=["musebot"])
    router.include_router(admin_router(services, trusted))
    Chatter = Annotated[Principal, Depends(principal_dependency(services.accounts, Scope.CHAT, trusted))]
    Admin = Annotated[Principal, Depends(principal_dependency(services.accounts, Scope.ADMIN, trusted))]

    @any_method(router, "/pong", "GET")
    async def pong() -> Response:
        """The admin console's health check: no credentials, always the same answer."""
        return ok("pong")

    @any_method(router, "/communicate", "GET", "POST")
    @any_method(router, "/api/communicate", "GET", "POST", in_schema=False)
    async def communicate(principal: Chatter, request: Request) -> Response:
        prompt = request.query_params.get("prompt", "")
        body = await request.body()
        if not prompt.strip() and not body:
            return PlainTextResponse("Missing prompt parameter", status_code=400)
        user_id = text_param(request.query_params, "user_id", "userId") or DEFAULT_WEB_USER
        session = await services.commands.open(principal, PLATFORM, user_id, STYLE)
        chunks = services.commands.run(session, prompt, body)
        if not cancel_on_disconnect:
            chunks = detacher.detach(chunks)
        return EventStream(raw_text(chunks), heartbeat=0, ping=b"", headers=RAW_TEXT_HEADERS)

    @any_method(router, "/user/token/add", "POST")
    async def add_token(principal: Admin, body: TokenAddBody) -> Response:
        await services.records.add_tokens(principal, PLATFORM, body.user_id, body.token)
        return ok("success")

    @any_method(router, "/user/list", "GET")
    async def list_users(principal: Chatter, request: Request) -> Response:
        fields = await fields_of(request)  # MuseBot reads r.FormValue: the query or a form body
        page, size = page_params(fields)
        users, total = await services.records.users(principal, PLATFORM, page, size, text_param(fields, "user_id"))
        default = services.runtime_config.current.base.default_model or services.models.default_model
        return ok({"list": [user_out(u, default) for u in users], "total": total})

    @any_method(router, "/user/update/mode", "POST")
    @any_method(router, "/user/mode/update", in_schema=False)  # the console's spelling (GET ?userId=&mode=)
    async def update_mode(principal: Chatter, request: Request) -> Response:
        fields = await fields_of(request)
        user_id = required(text_param(fields, "user_id", "userId"), "user_id")
        mode = required(text_param(fields, "mode"), "mode")
        session = await services.commands.open(principal, PLATFORM, user_id, STYLE)
        await services.commands.set_mode(session, mode)
        return ok("success")

    @any_method(router, "/record/list", "GET")
    async def list_records(principal: Chatter, request: Request) -> Response:
        records, total = await services.records.records(principal, PLATFORM, record_query(request.query_params))
        return ok({"list": [record_out(r) for r in records], "total": total})

    return router
