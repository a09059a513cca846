"""What the web app's admin console needs beyond /api/admin/users (routes_accounts): creating
accounts, everyone's API keys, the providers' health, and the runtime settings. Scope `admin`.
The IM platforms are in routes_platforms.

An administrator changes or revokes anyone's key through /api/keys/{key_id} (routes_accounts)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.admin.users import NewUser
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.bounds import RowId
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import ok
from switchboard.faces.native.mapping import admin_key_out, admin_user_out, provider_status_out
from switchboard.faces.native.schemas import SettingsBody, UserCreateBody


def admin_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["admin"])
    Admin = Annotated[Principal, Depends(principal_dependency(services, Scope.ADMIN))]

    @router.post("/api/admin/users")
    async def create_user(principal: Admin, body: UserCreateBody) -> Response:
        new = NewUser(username=body.username, password=body.password, email=body.email, role=Role(body.role),
                      token_allowance=body.token_allowance, unlimited=body.unlimited)
        return ok(admin_user_out(*await services.admin.create_user(principal, new)), "user created", status=201)

    @router.get("/api/admin/keys")
    async def list_everyones_keys(principal: Admin, user_id: Annotated[RowId | None, Query()] = None) -> Response:
        return ok([admin_key_out(key, owner) for key, owner in await services.keys.list_everyone(principal, user_id)])

    @router.get("/api/admin/providers")
    async def list_providers(principal: Admin) -> Response:
        return ok([provider_status_out(s) for s in services.providers.statuses(principal)])

    @router.get("/api/admin/settings")
    async def get_settings(principal: Admin) -> Response:
        return ok(services.runtime_config.changeable(principal))

    @router.put("/api/admin/settings")
    async def change_settings(principal: Admin, body: SettingsBody) -> Response:
        return ok(await services.runtime_config.update_many(principal, body.root), "settings changed")

    return router
