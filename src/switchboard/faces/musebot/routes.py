"""/communicate and /api/communicate, /user/* and /record/list."""


from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import PlainTextResponse, Response

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.bounds import MAX_PAGE
from switchboard.faces._shared.detach import Detacher
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces.musebot.auth import principal_dependency
from switchboard.faces.musebot.envelope import ok
from switchboard.faces.musebot.mapping import int_param, record_out, record_query, required, text_param, user_out
from switchboard.faces.musebot.routes_admin import admin_router
from switchboard.faces.musebot.schemas import TokenAddBody
from switchboard.faces.musebot.stream import RAW_TEXT_HEADERS, raw_text

PREFIXES = ("/user", "/record", "/communicate", "/api/communicate", "/conf", "/command", "/mcp")
PLATFORM = "musebot"


def musebot_router(services: Services, *, cancel_on_disconnect: bool, detacher: Detacher) -> APIRouter:
    router = APIRouter(tags=["musebot"])
    router.include_router(admin_router(services))
    Chatter = Annotated[Principal, Depends(principal_dependency(services.accounts, Scope.CHAT))]
    Admin = Annotated[Principal, Depends(principal_dependency(services.accounts, Scope.ADMIN))]

    @router.get("/communicate")  # one route per method, so each documented operation has its own id
    @router.post("/communicate")
    @router.api_route("/api/communicate", methods=["GET", "POST"], include_in_schema=False)
    async def communicate(principal: Chatter, request: Request) -> Response:
        prompt = request.query_params.get("prompt", "")
        body = await request.body()
        if not prompt.strip() and not body:
            return PlainTextResponse("Missing prompt parameter", status_code=400)
        user_id = required(text_param(request.query_params, "user_id", "userId"), "user_id")
        session = await services.commands.open(principal, PLATFORM, user_id)
        chunks = services.commands.run(session, prompt, body)
        if not cancel_on_disconnect:
            chunks = detacher.detach(chunks)
        return EventStream(raw_text(chunks), heartbeat=0, ping=b"", headers=RAW_TEXT_HEADERS)

    @router.post("/user/token/add")
    async def add_token(principal: Admin, body: TokenAddBody) -> Response:
        await services.records.add_tokens(principal, PLATFORM, body.user_id, body.token)
        return ok("success")

    @router.get("/user/list")
    async def list_users(principal: Chatter, request: Request) -> Response:
        query = request.query_params
        page = int_param(query, "page", default=1, low=0, high=MAX_PAGE) or 1
        size = int_param(query, "page_size", "pageSize", default=10, low=0, high=MAX_PAGE) or 10
        users, total = await services.records.users(principal, PLATFORM, page, size, text_param(query, "user_id"))
        default = services.runtime_config.current.base.default_model or services.models.default_model
        return ok({"list": [user_out(u, default) for u in users], "total": total})

    @router.post("/user/update/mode")
    async def update_mode(principal: Chatter, request: Request) -> Response:
        fields = await _fields(request)
        user_id = required(text_param(fields, "user_id", "userId"), "user_id")
        mode = required(text_param(fields, "mode"), "mode")
        session = await services.commands.open(principal, PLATFORM, user_id)
        await services.commands.set_mode(session, mode)
        return ok("success")

    @router.get("/record/list")
    async def list_records(principal: Chatter, request: Request) -> Response:
        records, total = await services.records.records(principal, PLATFORM, record_query(request.query_params))
        return ok({"list": [record_out(r) for r in records], "total": total})

    return router


async def _fields(request: Request) -> Mapping[str, str]:
    """Form fields (as MuseBot posts them), a JSON object, or the query string: all are accepted."""
    fields = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    elif content_type.startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            raise InvalidInput("the body is not valid JSON") from None
        if isinstance(data, dict):
            fields.update({k: str(v) for k, v in data.items() if isinstance(v, str | int)})
    return fields
