"""Every failure the engine can report, as one tree. Faces map these to their own envelopes.

    DomainError                      code            meaning
    ├── InvalidInput                 invalid_input   the request is malformed or out of range
    ├── Unauthenticated              unauthenticated no, bad, expired or revoked credentials
    ├── Forbidden                    forbidden       authenticated, but not allowed (scope, role)
    ├── NotFound                     not_found       absent, or owned by someone else (never tell which)
    ├── Conflict                     conflict        already exists / state does not allow it
    ├── PayloadTooLarge              too_large       an upload or body over its limit
    ├── RateLimited                  rate_limited    too many requests or tokens per minute
    ├── QuotaExceeded                quota_exceeded  the token allowance cannot cover the request
    ├── UnknownModel                 unknown_model   no provider serves that model
    └── UpstreamError                upstream_error  the provider failed (status kept for mapping)
        ├── UpstreamTimeout          upstream_timeout
        └── UpstreamUnavailable      upstream_unavailable  connect error / every provider cooling down
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidInput(DomainError):
    code = "invalid_input"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class PayloadTooLarge(DomainError):
    code = "too_large"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExceeded(DomainError):
    code = "quota_exceeded"


class StorageBusy(DomainError):
    """The database stayed locked by other writers past its wait (SQLite under heavy load), or the
    file store did not answer: a passing condition the client may retry, not a fault."""

    code = "storage_busy"


class UnknownModel(DomainError):
    code = "unknown_model"


class UpstreamError(DomainError):
    code = "upstream_error"

    def __init__(
        self, message: str, *, status: int | None = None, retryable: bool = False, param: str | None = None,
        provider_code: str | None = None, retry_after: float | None = None,
    ) -> None:
        super().__init__(message, param=param)
        self.status = status
        self.retryable = retryable
        self.provider_code = provider_code  # the provider's own error code, e.g. context_length_exceeded
        self.retry_after = retry_after  # seconds, as the provider asked (its Retry-After)


class UpstreamTimeout(UpstreamError):
    code = "upstream_timeout"


class UpstreamUnavailable(UpstreamError):
    code = "upstream_unavailable"
