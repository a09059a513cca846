"""The AstrBot Open API face (seed 003, under /api/v1): one router, built from the services."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from switchboard.core.services.bundle import Services
from switchboard.faces._shared.detach import Detacher
from switchboard.faces.astrbot.routes_chat import chat_router
from switchboard.faces.astrbot.routes_misc import misc_router
from switchboard.faces.astrbot.routes_ws import ws_router
from switchboard.faces.astrbot.sessions import ChatSessions

PREFIXES = ("/api/v1",)


@dataclass(frozen=True, slots=True)
class AstrBotOptions:
    heartbeat: float = 15.0
    cancel_on_disconnect: bool = True
    ws_idle_seconds: float = 300.0  # the chat WebSocket is closed after this long without a frame


def astrbot_router(services: Services, options: AstrBotOptions, *, detacher: Detacher) -> APIRouter:
    sessions = ChatSessions(services, cancel_on_disconnect=options.cancel_on_disconnect, detacher=detacher)
    router = APIRouter()
    router.include_router(chat_router(services, sessions, options.heartbeat))
    router.include_router(ws_router(services, sessions, options.ws_idle_seconds))
    router.include_router(misc_router(services, sessions))
    return router
