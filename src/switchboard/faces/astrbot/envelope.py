"""AstrBot's envelope: `{"status": "ok", "message": null, "data": {...}}`, errors
`{"status": "error", "message": "...", "data": null}` (the seed-era clients read `data` of every
answer, as AstrBot's `Response().error()` always wrote it).

As AstrBot does it, business errors (bad input, unknown session or config, another username's
session ...) answer HTTP 200 with `status: "error"`; credentials (401), scopes (403), oversized
uploads (413), unknown endpoints (404, 405), rate limits (429) and server faults (500) keep their
HTTP status."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from switchboard.core.domain import errors as e
from switchboard.faces._shared.responses import FastJSONResponse

_KEEP_STATUS: tuple[type[e.DomainError], ...] = (e.Unauthenticated, e.Forbidden, e.PayloadTooLarge, e.RateLimited)
NO_SUCH_ENDPOINT = "no such endpoint"


# the error envelope and the statuses it comes with (business errors are HTTP 200), for /openapi.json
ERROR_SCHEMA: dict[str, Any] = {"type": "object", "required": ["status", "message", "data"], "properties": {
    "status": {"const": "error"}, "message": {"type": "string"}, "data": {"type": "null"}}}
ERROR_STATUSES = (401, 403, 404, 405, 413, 429, 502, 503, 504)


def ok(data: Any = None, message: str | None = None) -> Response:
    return FastJSONResponse({"status": "ok", "message": message, "data": {} if data is None else data})


def error(message: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return FastJSONResponse({"status": "error", "message": message, "data": None}, status_code=status,
                            headers=headers)


def render_error(error_: e.DomainError, status: int) -> Response:
    """The app's error handlers call this for every failure under /api/v1."""
    if status >= 500 and not isinstance(error_, e.UpstreamError):
        return error("Internal server error", 500)
    if isinstance(error_, _KEEP_STATUS) or status == 405:
        return error(error_.message, status)
    if isinstance(error_, e.NotFound) and error_.message.startswith(NO_SUCH_ENDPOINT):
        return error(error_.message, 404)
    return error(error_.message)
