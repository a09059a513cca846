"""The ChatGPT-proxy face (seed 001): one router, built from the services (no globals)."""

from __future__ import annotations

from fastapi import APIRouter

from switchboard.core.services.bundle import Services
from switchboard.faces._shared.detach import Detacher
from switchboard.faces.chatgpt_proxy.auth import GuestSource
from switchboard.faces.chatgpt_proxy.options import ProxyOptions
from switchboard.faces.chatgpt_proxy.routes_chat import chat_router
from switchboard.faces.chatgpt_proxy.routes_media import media_router
from switchboard.faces.chatgpt_proxy.stream import StreamPolicy

PREFIXES = ("/openai", "/send")


def chatgpt_proxy_router(
    services: Services, options: ProxyOptions, *, detacher: Detacher, guest: GuestSource | None = None,
) -> APIRouter:
    """`guest` is given only when the operator lets anonymous callers in (see auth.py)."""
    policy = StreamPolicy(options.heartbeat, options.cancel_on_disconnect, detacher)
    router = APIRouter(tags=["chatgpt-proxy"])
    router.include_router(chat_router(services, options, policy, guest))
    router.include_router(media_router(services, options, guest))
    return router
