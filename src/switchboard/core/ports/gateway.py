"""What the OpenAI-compatible gateway needs: byte-level relays to providers, a router that knows
aliases, weights and cool-downs, and a rate limiter shared by every worker.

The gateway forwards the client's own JSON and the provider's own bytes, so these ports speak
bytes, not ChatEvents: translating every chunk would cost the speed a gateway is judged by.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UploadedFile:
    field: str
    filename: str
    mime: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Multipart:
    """A multipart/form-data body (audio transcriptions, image edits), rebuilt for each attempt."""

    fields: dict[str, str] = field(default_factory=dict)
    files: tuple[UploadedFile, ...] = ()


class RelayReply(Protocol):
    """A provider's 2xx answer, not yet read."""

    status: int
    content_type: str

    async def read(self) -> bytes:
        """The whole body (non-streamed answers). Raises UpstreamError subclasses."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, guarded by the provider's idle timeout. Raises UpstreamError
        subclasses when it breaks off or goes silent."""
        ...

    def close(self) -> None:
        """Idempotent. Before the end of the body it drops the connection, which is how the
        provider learns that nobody listens any more."""
        ...


class RelayProvider(Protocol):
    name: str

    async def relay(self, path: str, body: bytes | Multipart, *, model: str, stream: bool) -> RelayReply:
        """POST `body` to `path` under the provider's base URL, once (no retries: the router falls
        back to another provider instead). Raises UpstreamError subclasses for connect failures and
        non-2xx answers, with `retryable` set for connect errors, 429 and 5xx."""
        ...


class ProviderRouter(Protocol):
    async def candidates(self, model: str, *, media: bool = False) -> list[tuple[RelayProvider, str]]:
        """The providers to try for `model` (aliases resolved), in order: a weighted random order,
        providers cooling down after failures left out. UnknownModel when nobody serves the model
        (for `media` models, which providers often leave out of their listings, the only provider
        serves it when there is just one); UpstreamUnavailable when every candidate is cooling down."""
        ...

    def report(self, provider: str, ok: bool, error: str | None = None) -> None:
        """How an attempt went before its first byte (`error`: what went wrong, for administrators);
        enough failures in a row start a cool-down."""
        ...


class RateLimiter(Protocol):
    async def acquire(self, key: str, *, rpm: int | None, tpm: int | None) -> float | None:
        """Counts one request against `key`'s current minute. None when it may go ahead, else the
        seconds until it may (the request is then not counted). `tpm` is checked against the tokens
        recorded so far this minute."""
        ...

    async def add_tokens(self, key: str, tokens: int) -> None:
        """Tokens a finished request spent, for the tokens-per-minute limit."""
        ...

    async def close(self) -> None: ...
