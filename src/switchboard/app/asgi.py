"""`create_app(settings)`: builds everything for one app instance, so tests can build several."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from switchboard.app.container import Runtime, build_runtime
from switchboard.app.docs import serve_offline_docs
from switchboard.app.faces import FaceMount, FaceTable, SwitchboardApp
from switchboard.app.guest import GuestAccount
from switchboard.app.metrics_endpoint import MetricsEndpoint
from switchboard.app.middleware import BodyLimit
from switchboard.config.settings import Settings
from switchboard.core.domain import errors as e
from switchboard.faces._shared.errors import describe_problems, error_responses
from switchboard.faces._shared.plain_asgi import PlainFace
from switchboard.faces._shared.trusted import TrustedCaller
from switchboard.faces.astrbot import envelope as astrbot_envelope
from switchboard.faces.astrbot.routes import PREFIXES as ASTRBOT_PREFIXES
from switchboard.faces.astrbot.routes import AstrBotOptions, astrbot_router
from switchboard.faces.chatgpt_proxy import envelope as proxy_envelope
from switchboard.faces.chatgpt_proxy.options import ProxyOptions
from switchboard.faces.chatgpt_proxy.routes import PREFIXES as PROXY_PREFIXES
from switchboard.faces.chatgpt_proxy.routes import chatgpt_proxy_router
from switchboard.faces.miochat import envelope as miochat_envelope
from switchboard.faces.miochat.auth import Codes
from switchboard.faces.miochat.options import MioOptions
from switchboard.faces.miochat.routes import PREFIXES as MIOCHAT_PREFIXES
from switchboard.faces.miochat.routes import miochat_router
from switchboard.faces.musebot import envelope as musebot_envelope
from switchboard.faces.musebot.routes import PREFIXES as MUSEBOT_PREFIXES
from switchboard.faces.musebot.routes import musebot_router
from switchboard.faces.native import envelope as native_envelope
from switchboard.faces.native.routes import PREFIXES as NATIVE_PREFIXES
from switchboard.faces.native.routes import native_router
from switchboard.faces.native.routes_health import health_router
from switchboard.faces.native.turns import ChatTurns
from switchboard.faces.openai import envelope as openai_envelope
from switchboard.faces.openai.envelope import render_error as openai_error
from switchboard.faces.openai.routes import PREFIXES as OPENAI_PREFIXES
from switchboard.faces.openai.routes import openai_face
from switchboard.webui.site import BUILD_COMMAND, WebSite

log = logging.getLogger("switchboard")


def _native_error(error: e.DomainError, status: int) -> Response:
    return native_envelope.failure(status, error.message, error.code)


def _with_retry_after(response: Response, error: e.DomainError) -> Response:
    """FastAPI's DomainError handler (below) and the native plain routes: a rate limit says when to come back."""
    if isinstance(error, e.RateLimited):
        response.headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return response


def build_faces(runtime: Runtime) -> list[FaceMount]:
    settings, services = runtime.settings, runtime.services
    streaming = settings.streaming
    turns = ChatTurns(services, streaming.heartbeat_seconds, streaming.cancel_on_disconnect)
    return [
        FaceMount("native", NATIVE_PREFIXES, _native_error, errors=_errors(native_envelope),
                  router=native_router(services, turns, heartbeat=streaming.heartbeat_seconds),
                  plain=PlainFace(turns.routes(), lambda error, status: _with_retry_after(
                      _native_error(error, status), error))),
        FaceMount("chatgpt_proxy", PROXY_PREFIXES, proxy_envelope.render_error, _chatgpt_proxy_router(runtime),
                  errors=_errors(proxy_envelope)),
        FaceMount("miochat", MIOCHAT_PREFIXES, miochat_envelope.render_error, _miochat_router(runtime),
                  errors=_errors(miochat_envelope)),
        FaceMount("musebot", MUSEBOT_PREFIXES, musebot_envelope.render_error, errors=_errors(musebot_envelope),
                  router=musebot_router(
            services, cancel_on_disconnect=streaming.cancel_on_disconnect, detacher=runtime.detacher,
            trusted=TrustedCaller.of(settings.musebot.trusted_key, settings.musebot.trusted_clients),
        )),
        FaceMount("astrbot", ASTRBOT_PREFIXES, astrbot_envelope.render_error, errors=_errors(astrbot_envelope),
                  router=astrbot_router(
            services, AstrBotOptions(streaming.heartbeat_seconds, streaming.cancel_on_disconnect,
                                     settings.limits.ws_idle_seconds),
            detacher=runtime.detacher)),
        FaceMount("openai", OPENAI_PREFIXES, openai_error, errors=_errors(openai_envelope), plain=openai_face(
            services.gateway, services.models, heartbeat=streaming.heartbeat_seconds)),
    ]


def _errors(envelope: ModuleType) -> dict[int | str, Any]:
    """A face's error statuses for /openapi.json, from its envelope module."""
    return error_responses(envelope.ERROR_SCHEMA, envelope.ERROR_STATUSES)


def _miochat_router(runtime: Runtime) -> APIRouter:
    m = runtime.settings.miochat
    codes = Codes(m.user_code or None, m.admin_code or None, m.code_user, m.admin_user)
    return miochat_router(runtime.services, MioOptions(
        codes, m.bot_qq, m.admin_qq, m.login_timeout_seconds, m.heartbeat_timeout_seconds, m.max_frame_bytes,
        m.share_base_url, runtime.settings.streaming.heartbeat_seconds,
        runtime.settings.limits.ws_turns_per_socket, runtime.settings.limits.ws_turns_per_user,
        title=m.title, beian=m.beian, full_screen=m.full_screen,
        trusted=TrustedCaller.of(m.trusted_key, m.trusted_clients), serves_web_client=m.web_dist is not None,
        cancel_on_disconnect=runtime.settings.streaming.cancel_on_disconnect,
    ))


def _chatgpt_proxy_router(runtime: Runtime) -> APIRouter:
    settings, services = runtime.settings, runtime.services
    proxy, streaming = settings.chatgpt_proxy, settings.streaming
    options = ProxyOptions(
        legacy_models=proxy.legacy_models, suggest=proxy.suggest, image_model=proxy.image_model, max_n=proxy.max_n,
        heartbeat=streaming.heartbeat_seconds, cancel_on_disconnect=streaming.cancel_on_disconnect,
    )
    guest = GuestAccount(services.uow, services.accounts, proxy.guest_username) if proxy.allow_anonymous else None
    return chatgpt_proxy_router(services, options, detacher=runtime.detacher, guest=guest.principal if guest else None)


def create_app(settings: Settings, runtime: Runtime | None = None, *, freeze_heap: bool = False) -> SwitchboardApp:
    """`freeze_heap` (the server process, not tests): after start-up, keep the ~200,000 objects of
    the libraries and settings out of the garbage collector's full passes (gc.freeze). Otherwise
    every full pass walks them all: ~160 ms with the event loop stopped, a few times a minute
    under load (measured: ~50 µs per gateway request on average, and the p99)."""
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not site.built:
            log.warning("the web app is not built (no %s): every API works; run %s to serve it at /",
                        site.dist / "index.html", BUILD_COMMAND)
        await runtime.start()
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await runtime.close()
            app.metrics.close()

    app = SwitchboardApp(
        title="Switchboard", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
        description="A self-hosted multi-user LLM chat server that speaks the APIs your clients already use.",
    )
    app.state.runtime = runtime
    faces = build_faces(runtime)
    table = FaceTable(faces, _native_error)
    app.include_router(health_router(runtime.readiness_checks()))
    serve_offline_docs(app)
    for face in faces:
        if face.router is not None:
            app.include_router(face.router, responses=face.errors)
    for router in runtime.platforms.routers if runtime.platforms is not None else ():
        app.include_router(router)
    _install_error_handlers(app, table)
    # the web app answers what no route took; paths under the faces' and the app's own API roots
    # keep the router's 404 (the face's JSON envelope)
    api_paths = [prefix for face in faces for prefix in face.prefixes] + _route_paths(app.routes)
    site = _web_site(settings, api_paths, app.router.default)
    app.router.default = site
    limits = {"max_bytes": settings.limits.max_body_bytes, "max_upload_bytes": settings.limits.max_upload_bytes,
              "faces": table}
    app.add_middleware(BodyLimit, **limits)
    app.serve_plain(table, lambda plain: BodyLimit(plain, **limits))
    app.metrics_endpoint = MetricsEndpoint(app.metrics, runtime, _native_error, public=settings.metrics.public)
    return app


def _web_site(settings: Settings, api_paths: list[str], fallback: Any) -> WebSite:
    """Switchboard's web app at `/`, or a Mio-Chat web build when `miochat.web_dist` names one
    (its own pages and scripts: no Content-Security-Policy of ours over them)."""
    if settings.miochat.web_dist is not None:
        return WebSite(settings.miochat.web_dist, api_prefixes=api_paths, fallback=fallback, csp=None)
    return WebSite(settings.web.dist_dir, api_prefixes=api_paths, fallback=fallback)


def _route_paths(routes: list[Any]) -> list[str]:
    """Every route's path, through the routers FastAPI includes (they keep their own route list)."""
    paths = []
    for route in routes:
        if isinstance(getattr(route, "path", None), str):
            paths.append(route.path)
        elif (inner := getattr(route, "original_router", None)) is not None:
            paths += _route_paths(inner.routes)
    return paths


def _install_error_handlers(app: FastAPI, table: FaceTable) -> None:
    from switchboard.faces._shared.errors import status_for

    @app.exception_handler(e.DomainError)
    async def domain_error(request: Request, exc: e.DomainError) -> Response:
        return _with_retry_after(table.renderer_for(request.url.path)(exc, status_for(exc)), exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        error = e.InvalidInput(describe_validation(exc))
        return table.renderer_for(request.url.path)(error, 422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        kind = {401: e.Unauthenticated, 403: e.Forbidden, 404: e.NotFound, 409: e.Conflict,
                413: e.PayloadTooLarge}.get(exc.status_code, e.InvalidInput)
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        if exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        response = table.renderer_for(request.url.path)(kind(message), exc.status_code)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # Allow names every method of the path (RFC 9110), not only the first route's
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        error = e.DomainError("internal server error; the details were logged")
        return table.renderer_for(request.url.path)(error, 500)


def _allowed_methods(request: Request) -> list[str]:
    def methods_of(routes: list[Any]) -> set[str]:
        found: set[str] = set()
        for route in routes:
            if (inner := getattr(route, "original_router", None)) is not None:
                found |= methods_of(inner.routes)  # an included router keeps its own route list
            elif isinstance(getattr(route, "methods", None), set) and route.matches(request.scope)[0] is not Match.NONE:
                found |= route.methods
        return found

    return sorted(methods_of(request.app.routes))


def describe_validation(exc: RequestValidationError) -> str:
    """A one-line, human description of what was wrong with the request (no stack, no input echo)."""
    return describe_problems(exc.errors())
