"""/api/usage (your own) and /api/admin/usage (anyone's, or everyone's): the usage ledger summed
by API key, model, UTC day, user or source over the last `days` days (your own comes with your token
allowance). Your own: any credential; anyone's: `admin`."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from switchboard.core.domain.quotas import UsageGroup
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.bounds import RowId
from switchboard.faces._shared.credentials import SIGNED_IN
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import ok
from switchboard.faces.native.mapping import allowance_out, usage_out

Days = Annotated[int, Query(ge=1, le=366, description="how many days back, today included")]
By = Annotated[UsageGroup, Query(description="key, model, day, user or source")]


def usage_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["usage"])
    Caller = Annotated[Principal, Depends(principal_dependency(services, SIGNED_IN))]
    Admin = Annotated[Principal, Depends(principal_dependency(services, Scope.ADMIN))]

    @router.get("/api/usage")
    async def my_usage(principal: Caller, by: By = "model", days: Days = 30) -> Response:
        since = services.clock.now() - timedelta(days=days)
        report = usage_out(await services.quotas.usage(principal, by, since, principal.user_id))
        return ok(report | allowance_out(await services.quotas.quota(principal.user_id)))

    @router.get("/api/admin/usage")
    async def users_usage(principal: Admin, by: By = "user", days: Days = 30,
                          user_id: Annotated[RowId | None, Query()] = None) -> Response:
        since = services.clock.now() - timedelta(days=days)
        return ok(usage_out(await services.quotas.usage(principal, by, since, user_id)))

    return router
