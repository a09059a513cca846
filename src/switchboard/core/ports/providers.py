"""Model providers: anything that speaks (or is adapted to) the OpenAI chat completions API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from switchboard.core.domain.chat import ModelInfo, ProviderCall, ProviderStatus
from switchboard.core.domain.events import ProviderEvent


class ChatProvider(Protocol):
    name: str

    def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        """Stream one completion. Raises UpstreamError subclasses; retries happen only before
        the first event. Closing the iterator early cancels the upstream request."""
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


class ProviderMonitor(Protocol):
    def statuses(self) -> list[ProviderStatus]:
        """Every configured provider as routing last saw it; no I/O (an unreachable provider must
        not make the administrator wait)."""
        ...
