"""The IM platforms under /api/admin/platforms (scope `admin`): each with its live state, added,
edited, enabled, disabled and deleted while the server runs (core/services/admin/platforms.py).

A body is one `platforms:` entry of the config file (core/domain/platform_settings.py). Secrets come
back as "***"; an edit that sends "***" back keeps the saved secret."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path
from starlette.responses import Response

from switchboard.core.domain.platform_settings import PlatformSettings
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import ok
from switchboard.faces.native.mapping import platform_out

PlatformId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,40}$")]
PlatformBody = Annotated[PlatformSettings, Body()]


def platforms_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["admin"])
    Admin = Annotated[Principal, Depends(principal_dependency(services, Scope.ADMIN))]

    @router.get("/api/admin/platforms")
    async def list_platforms(principal: Admin) -> Response:
        return ok([platform_out(b) for b in services.platforms.list(principal)])

    @router.post("/api/admin/platforms")
    async def add_platform(principal: Admin, body: PlatformBody) -> Response:
        return ok(platform_out(await services.platforms.add(principal, body)), "platform added", status=201)

    @router.get("/api/admin/platforms/{platform_id}")
    async def get_platform(principal: Admin, platform_id: PlatformId) -> Response:
        return ok(platform_out(services.platforms.get(principal, platform_id)))

    @router.put("/api/admin/platforms/{platform_id}")
    async def edit_platform(principal: Admin, platform_id: PlatformId, body: PlatformBody) -> Response:
        return ok(platform_out(await services.platforms.replace(principal, platform_id, body)), "platform saved")

    @router.post("/api/admin/platforms/{platform_id}/enable")
    async def enable_platform(principal: Admin, platform_id: PlatformId) -> Response:
        return ok(platform_out(await services.platforms.set_enabled(principal, platform_id, True)))

    @router.post("/api/admin/platforms/{platform_id}/disable")
    async def disable_platform(principal: Admin, platform_id: PlatformId) -> Response:
        return ok(platform_out(await services.platforms.set_enabled(principal, platform_id, False)))

    @router.delete("/api/admin/platforms/{platform_id}")
    async def delete_platform(principal: Admin, platform_id: PlatformId) -> Response:
        await services.platforms.remove(principal, platform_id)
        return ok(message="platform deleted")

    return router
