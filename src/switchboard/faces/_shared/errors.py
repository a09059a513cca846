"""DomainError -> HTTP status, the default every face starts from (a face may override a row)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from switchboard.core.domain import errors as e

STATUS_BY_ERROR: dict[type[e.DomainError], int] = {
    e.InvalidInput: 400,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.PayloadTooLarge: 413,
    e.RateLimited: 429,
    e.QuotaExceeded: 429,
    e.UnknownModel: 404,
    e.UpstreamTimeout: 504,
    e.UpstreamUnavailable: 503,
    e.UpstreamError: 502,
    e.StorageBusy: 503,
}


# a provider's refusal of the request itself keeps its status on every face (the /v1 face too):
# the client's request is at fault, and a 502 would tell it to try the same request again
PROVIDER_REFUSALS = frozenset({400, 404, 409, 413, 422, 429})


def status_for(error: e.DomainError) -> int:
    if isinstance(error, e.UpstreamError) and error.status in PROVIDER_REFUSALS:
        return error.status
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]  # type: ignore[index]
    return 500


def retry_after_header(error: e.DomainError) -> dict[str, str]:
    """When to try again: our own rate limits, or a provider's 429 passed on with its hint."""
    if isinstance(error, e.RateLimited):
        return {"Retry-After": str(max(1, round(error.retry_after)))}
    if isinstance(error, e.StorageBusy):
        return {"Retry-After": "1"}
    if isinstance(error, e.UpstreamError) and error.retry_after is not None:
        return {"Retry-After": str(max(1, round(error.retry_after)))}
    return {}


_MEANING = {400: "the request is malformed or out of range", 401: "no, bad, expired or revoked credentials",
            403: "not allowed (scope, role, ownership)", 404: "no such thing (or not yours)",
            405: "method not allowed", 409: "conflicts with what exists", 413: "body or upload too large",
            422: "the body or a parameter failed validation", 429: "rate limited, or the quota is spent",
            500: "internal error (logged; no details)", 502: "the provider failed",
            503: "no provider available, or the database is busy", 504: "the provider took too long"}
COMMON_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429, 502, 503, 504)


def error_responses(schema: dict[str, Any], statuses: tuple[int, ...] = COMMON_ERRORS) -> dict[int | str, Any]:
    """The OpenAPI `responses` entries of a face's error statuses, each with its envelope's schema."""
    return {status: {"description": _MEANING.get(status, "error"), "content": {"application/json": {"schema": schema}}}
            for status in statuses}


def describe_problems(problems: Sequence[Mapping[str, Any]]) -> str:
    """A request validation's problems (pydantic's `errors()`) as one human line: no stack, no input echo."""
    parts = []
    for problem in problems[:5]:
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("body",)) or "body"
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)
