"""OpenAI's error object, `{"error": {"message", "type", "param", "code"}}`, with the status OpenAI
would send; success bodies are the provider's own bytes, so there is nothing to wrap."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from switchboard.core.domain import errors as e
from switchboard.faces._shared.errors import retry_after_header, status_for

# error kind -> (type, code), most specific first; the types OpenAI itself sends (its SDKs pick
# their exception by the status, some clients read `code`)
_KINDS: list[tuple[type[e.DomainError], str, str | None]] = [
    (e.Unauthenticated, "invalid_request_error", "invalid_api_key"),
    (e.Forbidden, "invalid_request_error", "insufficient_permissions"),
    (e.UnknownModel, "invalid_request_error", "model_not_found"),
    (e.NotFound, "invalid_request_error", None),
    (e.PayloadTooLarge, "invalid_request_error", "request_too_large"),
    (e.RateLimited, "requests", "rate_limit_exceeded"),
    (e.QuotaExceeded, "insufficient_quota", "insufficient_quota"),
    (e.UpstreamTimeout, "server_error", "upstream_timeout"),
    (e.UpstreamUnavailable, "server_error", "upstream_unavailable"),
    (e.UpstreamError, "server_error", "upstream_error"),
    (e.InvalidInput, "invalid_request_error", None),
    (e.Conflict, "invalid_request_error", "conflict"),
]
# provider statuses passed on as they are: the request itself was refused, or every provider
# was rate limited (so the client's SDK backs off as it would with OpenAI)
_CLIENT_FAULTS = {400: "invalid_request_error", 404: "invalid_request_error", 409: "invalid_request_error",
                  413: "invalid_request_error", 422: "invalid_request_error", 429: "requests"}


# OpenAI's error object and the statuses it comes with (invalid bodies are 400, as OpenAI answers)
ERROR_SCHEMA: dict[str, Any] = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message", "type"], "properties": {
        "message": {"type": "string"}, "type": {"type": "string"}, "param": {"type": ["string", "null"]},
        "code": {"type": ["string", "null"]}}}}}
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 413, 422, 429, 502, 503, 504)


def error_body(error: e.DomainError, status: int) -> dict[str, Any]:
    kind, code = "server_error", None
    for cls, name, default_code in _KINDS:
        if isinstance(error, cls):
            kind, code = name, default_code
            break
    if isinstance(error, e.Forbidden) and error.param == "model":
        code = "model_not_allowed"
    if isinstance(error, e.UpstreamError) and status in _CLIENT_FAULTS:
        kind = _CLIENT_FAULTS[status]  # the provider refused the request itself: say so, as it did
        code = error.provider_code or ("rate_limit_exceeded" if status == 429 else code)
    if status == 500:
        kind, code = "server_error", "internal_error"
    return {"error": {"message": error.message, "type": kind, "param": error.param, "code": code}}


def status_of(error: e.DomainError, status: int | None = None) -> int:
    if isinstance(error, e.UpstreamError) and error.status in _CLIENT_FAULTS:
        return error.status  # the provider's own 400/404/413/422: the client's request is at fault
    status = status if status is not None else status_for(error)
    return 400 if status == 422 else status  # OpenAI answers invalid bodies with 400


def render_error(error: e.DomainError, status: int) -> Response:
    """The FaceMount renderer: app-level handlers call it with the status they chose."""
    status = status_of(error, status)
    return Response(orjson.dumps(error_body(error, status)), status_code=status, media_type="application/json",
                    headers=retry_after_header(error))


def stream_error_chunk(error: e.DomainError) -> bytes:
    """What ends a stream that failed after it started (the SDKs raise on a chunk with `error`)."""
    return b"data: " + orjson.dumps(error_body(error, status_of(error))) + b"\n\n"
