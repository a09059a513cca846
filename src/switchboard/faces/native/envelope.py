"""The native envelope: `{"success": true, "message"?, "data"?}`; errors `{"success": false, "message"}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from switchboard.core.domain.errors import DomainError
from switchboard.faces._shared.errors import COMMON_ERRORS, retry_after_header, status_for
from switchboard.faces._shared.responses import FastJSONResponse

# the error envelope and its statuses, for /openapi.json
ERROR_SCHEMA: dict[str, Any] = {"type": "object", "required": ["success", "message"], "properties": {
    "success": {"const": False}, "message": {"type": "string"}, "code": {"type": "string"}}}
ERROR_STATUSES = COMMON_ERRORS


def ok(data: Any = None, message: str | None = None, status: int = 200) -> Response:
    body: dict[str, Any] = {"success": True}
    if message is not None:
        body["message"] = message
    if data is not None:
        body["data"] = data
    return FastJSONResponse(body, status_code=status)


def failure(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"success": False, "message": message}
    if code:
        body["code"] = code
    return FastJSONResponse(body, status_code=status, headers=headers)


def from_domain(error: DomainError) -> Response:
    return failure(status_for(error), error.message, error.code, retry_after_header(error))
