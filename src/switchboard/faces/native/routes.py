"""The native face: one router, built from the services (no globals); a chat turn is answered by
the plain routes of turns.py, which the router only declares."""

from __future__ import annotations

from fastapi import APIRouter

from switchboard.core.services.bundle import Services
from switchboard.faces.native.routes_accounts import accounts_router
from switchboard.faces.native.routes_admin import admin_router
from switchboard.faces.native.routes_chat import chat_router
from switchboard.faces.native.routes_files import files_router
from switchboard.faces.native.routes_models import models_router
from switchboard.faces.native.routes_platforms import platforms_router
from switchboard.faces.native.routes_profiles import profiles_router
from switchboard.faces.native.routes_tools import tools_router
from switchboard.faces.native.routes_usage import usage_router
from switchboard.faces.native.turns import ChatTurns

PREFIXES = ("/api/auth", "/api/conversations", "/api/messages", "/api/tools", "/api/keys", "/api/admin", "/api/usage",
            "/api/models", "/api/files", "/api/profiles")


def native_router(services: Services, turns: ChatTurns, *, heartbeat: float) -> APIRouter:
    router = APIRouter()
    router.include_router(accounts_router(services))
    router.include_router(chat_router(services, turns, heartbeat))
    router.include_router(tools_router(services))
    router.include_router(profiles_router(services))
    router.include_router(usage_router(services))
    router.include_router(models_router(services))
    router.include_router(files_router(services))
    router.include_router(admin_router(services))
    router.include_router(platforms_router(services))
    return router
