"""Reply frames, and DomainError -> Mio-Chat's failure frame (`code: 1`, `message: "failed"`, and
the reason twice: `reason` as the seed spells it, `error` as the real backend does)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

from starlette.responses import Response

from switchboard.core.domain import errors as e
from switchboard.faces._shared.errors import COMMON_ERRORS
from switchboard.faces._shared.responses import FastJSONResponse
from switchboard.faces.miochat.schemas import ReplyFrame, RequestId

# the failure frame and the statuses it comes with over HTTP, for /openapi.json
ERROR_SCHEMA: dict[str, Any] = {"type": "object", "required": ["code", "message"], "properties": {
    "request_id": {}, "code": {"const": 1}, "message": {"type": "string"}, "data": {"type": "object"}}}
ERROR_STATUSES = COMMON_ERRORS


def success(request_id: RequestId, data: dict[str, Any] | None = None, *, protocol: str | None = None,
            message: str = "success", type_: str | None = None) -> dict[str, Any]:
    return ReplyFrame(request_id=request_id, protocol=protocol, type=type_, data=data or {}, message=message).wire()


def failure(request_id: RequestId, reason: str, *, protocol: str | None = None) -> dict[str, Any]:
    frame = ReplyFrame(request_id=request_id, protocol=protocol, code=1, message="failed",
                       data={"reason": reason, "error": reason})
    return frame.wire()


def from_domain(request_id: RequestId, error: e.DomainError, *, protocol: str | None = None) -> dict[str, Any]:
    return failure(request_id, error.message, protocol=protocol)


def onebot_push(request_id: int, contact: str, segments: list[dict[str, Any]], message_id: int | str
                ) -> dict[str, Any]:
    """A message from the bot to the web user, as Mio-Chat's backend pushes it."""
    content = {"message": segments, "message_id": message_id}
    data = {"id": contact, "type": "message", "content": content, "message_id": message_id}
    return {"request_id": request_id, "protocol": "onebot", "data": data}


def push_ids() -> Iterator[int]:
    """request_ids of server-initiated frames: milliseconds modulo 10^10 as Mio-Chat makes them,
    then counting up, so two pushes never share one."""
    return itertools.count(int(time.time() * 1000) % 10**10)


def render_error(error: e.DomainError, status: int) -> Response:
    """The app's error handlers call this for every failure under this face's HTTP paths."""
    if status >= 500 and not isinstance(error, e.UpstreamError):
        error = e.DomainError("internal server error; the details were logged")
    return FastJSONResponse(failure(None, error.message), status_code=status)
