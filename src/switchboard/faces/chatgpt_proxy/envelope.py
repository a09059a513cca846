"""The proxy's envelope, on every answer: `{"code": 0, "data": ..., "message": "响应成功"}`.

Errors carry a non-zero `code` (the HTTP status, so it reads at a glance), `data: null` and a
readable `message`; the response has that HTTP status too.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from switchboard.core.domain.errors import DomainError
from switchboard.faces._shared.errors import COMMON_ERRORS, STATUS_BY_ERROR, retry_after_header, status_for
from switchboard.faces._shared.responses import FastJSONResponse

OK_MESSAGE = "响应成功"

# Failed.code (a DomainError code string) -> HTTP status, from the shared table
STATUS_BY_CODE: dict[str, int] = {kind.code: status for kind, status in STATUS_BY_ERROR.items()}


# the error envelope and its statuses, for /openapi.json
ERROR_SCHEMA: dict[str, Any] = {"type": "object", "required": ["code", "data", "message"], "properties": {
    "code": {"type": "integer"}, "data": {"type": "null"}, "message": {"type": "string"}}}
ERROR_STATUSES = COMMON_ERRORS


def ok(data: Any, **extra: Any) -> Response:
    """`extra` adds top-level keys beside the envelope (/send answers `text` and `fileId` there too)."""
    return FastJSONResponse({"code": 0, "data": data, "message": OK_MESSAGE, **extra})


def failure(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return FastJSONResponse({"code": status, "data": None, "message": message}, status_code=status, headers=headers)


def render_error(error: DomainError, status: int) -> Response:
    """The app's error renderer for this face's paths (validation, auth, not found ...)."""
    return failure(status, error.message, retry_after_header(error))


def from_domain(error: DomainError) -> Response:
    return render_error(error, status_for(error))


def status_for_code(code: str) -> int:
    return STATUS_BY_CODE.get(code, 500)


_ERROR_BY_CODE: dict[str, type[DomainError]] = {kind.code: kind for kind in STATUS_BY_ERROR}


def error_for(code: str, message: str) -> DomainError:
    """A turn's `Failed(code, message)` as the DomainError it stood for (plain answers raise it)."""
    return _ERROR_BY_CODE.get(code, DomainError)(message)
