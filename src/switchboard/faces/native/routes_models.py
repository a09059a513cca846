"""/api/models: the models the caller may pick, for the web app's model picker; scope `chat`."""

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import ok
from switchboard.faces.native.mapping import model_out


def models_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["models"])
    Caller = Annotated[Principal, Depends(principal_dependency(services, Scope.CHAT))]

    @router.get("/api/models")
    async def list_models(principal: Caller) -> Response:
        return ok([model_out(m) for m in await services.models.choices(principal)])

    return router
