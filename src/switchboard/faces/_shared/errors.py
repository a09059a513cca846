"""DomainError -> HTTP status, the default every face starts from (a face may override a row)."""

from __future__ import annotations

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
}


def status_for(error: e.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]  # type: ignore[index]
    return 500


def retry_after_header(error: e.DomainError) -> dict[str, str]:
    """When to try again: our own rate limits, or a provider's 429 passed on with its hint."""
    if isinstance(error, e.RateLimited):
        return {"Retry-After": str(max(1, round(error.retry_after)))}
    if isinstance(error, e.UpstreamError) and error.retry_after is not None:
        return {"Retry-After": str(max(1, round(error.retry_after)))}
    return {}
