"""Model providers: anything that speaks (or is adapted to) the OpenAI chat completions API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from switchboard.core.domain.chat import ModelInfo, ProviderCall, ProviderStatus
from switchboard.core.domain.events import ProviderEvent


class ChatProvider(Protocol):
    name: str

    def stream(self, call: ProviderCall) -> AsyncIterator[list[ProviderEvent]]:
        """Stream one completion as lists of events, never empty (an HTTP provider's: what one
        network read brought, so the token loop handles a list per read, not an object per token).
        An unstreamed call (`call.streamed` False) may yield its whole answer as exactly one list.
        Raises UpstreamError subclasses; retries happen only before the first event. Closing the
        iterator early cancels the upstream request."""
        ...

    async def list_models(self) -> list[str]: ...

    async def close(self) -> None: ...


class ModelCatalog(Protocol):
    @property
    def default_model(self) -> str: ...

    async def models(self) -> list[ModelInfo]: ...

    async def resolve(self, model: str) -> tuple[ChatProvider, str]:
        """The provider serving `model` and the model's name upstream; UnknownModel otherwise."""
        ...

    def resolve_cached(self, model: str) -> tuple[ChatProvider, str] | None:
        """What `resolve` answers when it needs no I/O (every listing it consults is fresh), without
        awaiting: a chat turn plans inside its one storage step with it. None when `resolve` would
        list an upstream's models first, or refuse the model (the refusal is `resolve`'s to give)."""
        ...


class ProviderMonitor(Protocol):
    def statuses(self) -> list[ProviderStatus]:
        """Every configured provider as routing last saw it; no I/O (an unreachable provider must
        not make the administrator wait)."""
        ...
