"""MuseBot's envelope: `{"code": 0, "message": "success", "msg": "success", "data": …}`, always HTTP 200;
failures carry a non-zero numeric code and `data: null`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from switchboard.core.domain import errors as e
from switchboard.faces._shared.responses import FastJSONResponse

CODE_PARAM_ERROR = 210009
CODE_SERVER_ERROR = 110003
CODE_DB_WRITE = 210005
CODE_DB_QUERY = 210006
CODE_CONFIG_ERROR = 210010
CODE_UNAUTHENTICATED = 210401  # no such code in MuseBot (it has no credentials): ours, and says so
CODE_FORBIDDEN = 210403
CODE_QUOTA = 210429

_CODES: dict[type[e.DomainError], int] = {
    e.InvalidInput: CODE_PARAM_ERROR,
    e.PayloadTooLarge: CODE_PARAM_ERROR,
    e.UnknownModel: CODE_PARAM_ERROR,
    e.Unauthenticated: CODE_UNAUTHENTICATED,
    e.Forbidden: CODE_FORBIDDEN,
    e.NotFound: CODE_DB_QUERY,
    e.Conflict: CODE_DB_WRITE,
    e.QuotaExceeded: CODE_QUOTA,
    e.RateLimited: CODE_QUOTA,
    e.UpstreamError: CODE_SERVER_ERROR,
}


# every answer is HTTP 200 (failures carry a non-zero code), so no error statuses are documented
ERROR_SCHEMA: dict[str, Any] = {"type": "object", "required": ["code", "message"], "properties": {
    "code": {"type": "integer"}, "message": {"type": "string"}, "msg": {"type": "string"}, "data": {"type": "null"}}}
ERROR_STATUSES: tuple[int, ...] = ()


def ok(data: Any = "") -> Response:
    return FastJSONResponse({"code": 0, "message": "success", "msg": "success", "data": data})


def code_for(error: e.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in _CODES:
            return _CODES[kind]  # type: ignore[index]
    return CODE_SERVER_ERROR


def render_error(error: e.DomainError, status: int) -> Response:
    """Every failure as HTTP 200 with a numeric code, as MuseBot answers (no stack, ever)."""
    code = CODE_SERVER_ERROR if status >= 500 else code_for(error)
    return FastJSONResponse({"code": code, "message": error.message, "msg": error.message, "data": None})
