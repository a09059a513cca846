"""The Mio-Chat face (seed 000): one WebSocket carrying the whole envelope protocol, the same
envelopes over HTTP POST at /api/onebot|system|openai/*, /api/share with its public pages, and the
client's uploads (/api/upload/*, /api/uploaded/*)."""

from __future__ import annotations

from fastapi import APIRouter

from switchboard.core.services.bundle import Services
from switchboard.faces.miochat.auth import Authenticator
from switchboard.faces.miochat.dispatch import Dispatcher
from switchboard.faces.miochat.envelope import push_ids
from switchboard.faces.miochat.options import MioOptions
from switchboard.faces.miochat.routes_http import http_router
from switchboard.faces.miochat.routes_info import info_router
from switchboard.faces.miochat.routes_share import share_router
from switchboard.faces.miochat.routes_upload import upload_router
from switchboard.faces.miochat.routes_ws import ws_router

PREFIXES = ("/api/onebot", "/api/system", "/api/openai", "/api/share", "/share", "/api/miochat", "/api/gateway",
            "/api/base_info", "/api/qava", "/api/upload", "/api/uploaded")


def miochat_router(services: Services, options: MioOptions) -> APIRouter:
    auth = Authenticator(services, options.codes, options.trusted)
    dispatcher = Dispatcher(services, options, push_ids())
    router = APIRouter()
    router.include_router(ws_router(services, auth, dispatcher, options))
    router.include_router(http_router(auth, dispatcher, options))
    router.include_router(info_router(services, auth, options))
    router.include_router(share_router(services, services.shares, auth, options))
    router.include_router(upload_router(services, auth))
    return router
