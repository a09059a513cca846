"""Entries for the servers' worker processes: each worker builds its own app from the environment
(uvicorn's multi-worker mode, and granian, which always runs the app in child processes)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from switchboard.app.asgi import create_app
from switchboard.config.loader import load_settings


def app_from_environment() -> FastAPI:
    return create_app(load_settings(), freeze_heap=True)


def granian_app_from_environment() -> Any:
    """granian reads no proxy headers itself: its own ASGI wrapper does what uvicorn does."""
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    from switchboard.app.servers import trusted_forwarders

    return wrap_asgi_with_proxy_headers(app_from_environment(), trusted_forwarders())
