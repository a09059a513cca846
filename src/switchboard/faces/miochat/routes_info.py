"""The plain HTTP routes the Mio-Chat web client calls with `fetch` (and so with no credentials):
what the original backend answered them (Pretend-to/mio-chat-backend lib/server/http.js, 2024).

- `GET /api/base_info`: the page's title, 备案 line, full-screen default, admin and bot ids
  (frontend src/lib/client.js `getBaseInfo`, called before anyone logged in);
- `GET /api/onebot/plugins`: the options of a new OneBot contact (`genDefaultConctor`);
- `GET /api/openai/tools`, `GET /api/openai/presets`: the tool plugins and the prompt presets.
  Switchboard has no public presets (its chat profiles' prompts are not shown to chat users) and
  lists tools only to a caller who sent a credential, so a credential-less call gets empty lists;
- `GET /api/qava?q=<QQ number>`: an avatar; a redirect to QQ's avatar address, not a proxy (the
  original fetched it server-side: a redirect costs the server nothing and fetches nothing).
All of them answer only configuration the operator chose to show; none touches a user's data."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from switchboard.core.domain.errors import DomainError, InvalidInput
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.client import client_address
from switchboard.faces._shared.responses import FastJSONResponse
from switchboard.faces.miochat.auth import Authenticator, credentials
from switchboard.faces.miochat.envelope import success
from switchboard.faces.miochat.options import MioOptions

QQ_AVATAR = "https://q1.qlogo.cn/g?b=qq&s=0&nk={}"


def info_router(services: Services, auth: Authenticator, options: MioOptions) -> APIRouter:
    router = APIRouter(tags=["miochat"])

    @router.get("/api/base_info")
    async def base_info() -> Response:
        return FastJSONResponse(success(None, {
            "full_screen": options.full_screen, "beian": options.beian, "admin_qq": options.admin_qq or "10000",
            "bot_qq": options.bot_qq, "title": options.title}))

    @router.get("/api/onebot/plugins")
    async def onebot_plugins() -> Response:
        return FastJSONResponse(success(None, {"options": {}}))

    @router.get("/api/openai/presets")
    async def openai_presets() -> Response:
        # the original's makeStandardResponse(list): the client reads `res.data.length`
        return FastJSONResponse({"code": 0, "message": "success", "data": []})

    @router.get("/api/openai/tools")
    async def openai_tools(request: Request) -> Response:
        tools: dict[str, dict[str, str]] = {}
        if any(credentials(request.headers, request.query_params)):
            try:
                client = await auth.principal(request.headers, request.query_params, client_address(request))
            except DomainError:
                client = None
            if client is not None:
                for spec in await services.tools.offered(None, client.principal):
                    tools[spec.name] = {"name": spec.name, "description": spec.description}
        return FastJSONResponse(success(None, {"tools": tools}))

    @router.get("/api/qava")
    async def qq_avatar(q: str = "") -> Response:
        number = q.strip()
        if not number.isdecimal() or not 5 <= len(number) <= 12:
            raise InvalidInput("q must be a QQ number", param="q")
        return RedirectResponse(QQ_AVATAR.format(number), status_code=302, headers={"Cache-Control": "max-age=86400"})

    return router
