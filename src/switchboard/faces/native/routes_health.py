"""Liveness and readiness, open to everyone (no credentials, nothing secret).

/healthz: the process answers. /readyz: every dependency the app named answers (the database, its
schema at this release's newest migration, Redis when configured): 200, or 503 naming which not."""

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from starlette.responses import Response

from switchboard.faces._shared.responses import FastJSONResponse

ReadinessCheck = Callable[[], Awaitable[bool]]


def health_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> Response:
        return FastJSONResponse({"status": "ok"})

    @router.get("/readyz")
    async def readyz() -> Response:
        results = {name: await check() for name, check in checks.items()}
        ready = all(results.values())
        return FastJSONResponse(
            {"status": "ready" if ready else "unavailable", **results}, status_code=200 if ready else 503
        )

    return router
