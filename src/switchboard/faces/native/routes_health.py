"""Liveness and readiness, open to everyone (no credentials, nothing secret)."""


from fastapi import APIRouter
from starlette.responses import Response

from switchboard.core.services.bundle import Services
from switchboard.faces._shared.responses import FastJSONResponse


def health_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> Response:
        return FastJSONResponse({"status": "ok"})

    @router.get("/readyz")
    async def readyz() -> Response:
        ready = await services.uow.ping()
        return FastJSONResponse(
            {"status": "ready" if ready else "unavailable", "database": ready}, status_code=200 if ready else 503
        )

    return router
