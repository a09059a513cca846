"""Entry for uvicorn's multi-worker mode: each worker builds its own app from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.app.asgi import create_app
from switchboard.config.loader import load_settings


def app_from_environment() -> FastAPI:
    return create_app(load_settings(), freeze_heap=True)
