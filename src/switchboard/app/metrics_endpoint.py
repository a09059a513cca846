"""`GET /metrics`: for an administrator's JWT or an admin-scope API key as a bearer token, or for
anyone with `metrics: {public: true}` (a scraper on a private network). Outside every face and
outside OpenAPI: Prometheus' own text format, errors in the native envelope."""

from __future__ import annotations

from typing import get_args

from prometheus_client.core import Metric
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from switchboard.app.container import Runtime
from switchboard.app.faces import ErrorRenderer
from switchboard.app.metrics import CONTENT_TYPE, HttpMetrics, state_gauge
from switchboard.core.domain import errors as e
from switchboard.core.domain.mcp import McpState
from switchboard.core.domain.users import Scope as AccessScope
from switchboard.faces._shared.credentials import bearer_token, require_principal
from switchboard.faces._shared.errors import status_for
from switchboard.platforms._shared.supervisor import Status as PlatformStatus

MCP_STATES: tuple[str, ...] = get_args(McpState)
PLATFORM_STATES: tuple[str, ...] = get_args(PlatformStatus)


class MetricsEndpoint:
    def __init__(self, metrics: HttpMetrics, runtime: Runtime, render_error: ErrorRenderer, *, public: bool) -> None:
        self._metrics = metrics
        self._runtime = runtime
        self._render_error = render_error
        self._public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # a WebSocket at /metrics: closed unanswered
        try:
            if scope["method"] not in ("GET", "HEAD"):
                raise e.InvalidInput(f"method {scope['method']} is not allowed on /metrics; use GET")
            if not self._public:
                header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
                await require_principal(self._runtime.services.accounts, bearer_token(header), AccessScope.ADMIN)
            exposition = await self._metrics.exposition(self._state, self._runtime.telemetry.registry)
            response = Response(exposition, media_type=CONTENT_TYPE)
        except e.DomainError as error:
            status = 405 if isinstance(error, e.InvalidInput) else status_for(error)
            response = self._render_error(error, status)
            if status == 405:
                response.headers["Allow"] = "GET, HEAD"
        await response(scope, receive, send)

    async def _state(self) -> list[Metric]:
        """This worker's MCP servers and IM platforms, read now (one set per worker)."""
        runtime = self._runtime
        mcp = {s.name: s.state for s in await runtime.mcp.statuses()} if runtime.mcp is not None else {}
        platforms = ({p.id: p.status for p in runtime.platforms.supervisor.states()}
                     if runtime.platforms is not None else {})
        cooling = ({s.name: "cooling" if s.cooling_down_until else "routed" for s in runtime.router.statuses()}
                   if runtime.router is not None else {})
        return [
            state_gauge("switchboard_provider_state", "This worker's providers: routed, or left out for a "
                        "cool-down after repeated failures", "provider", cooling, ("routed", "cooling")),
            state_gauge("switchboard_mcp_server_state", "This worker's MCP servers: 1 for the state each is in",
                        "server", mcp, MCP_STATES),
            state_gauge("switchboard_im_platform_state", "This worker's IM platforms: 1 for the state each is in",
                        "platform", platforms, PLATFORM_STATES),
        ]
