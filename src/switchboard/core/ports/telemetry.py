"""What the core tells an operator's metrics about, one call per event. The app records them
(Prometheus); the core never knows how, and `NO_TELEMETRY` is the default that records nothing.
Which face a call serves is the recorder's business (it knows the request), never the core's."""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def first_token(self, model: str, seconds: float) -> None:
        """A provider call's first token (or first event of a relayed stream), `seconds` after the call."""
        ...

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        """What one answer or gateway call was charged (provider-reported or estimated)."""
        ...

    def stream_opened(self) -> None:
        """A model's answer started streaming; `stream_closed` follows once, however it ends."""
        ...

    def stream_closed(self) -> None: ...

    def provider_failed(self, provider: str, error: str) -> None:
        """A provider call failed; `error` is the DomainError code (upstream_error, upstream_timeout …)."""
        ...

    def cooldown_started(self, provider: str) -> None:
        """A provider failed often enough in a row to be left out for a while."""
        ...

    def quota_refused(self, reason: str) -> None:
        """A call was refused for want of tokens: `user` (the user's allowance) or `key` (the key's quota)."""
        ...


class NoTelemetry:
    def first_token(self, model: str, seconds: float) -> None:
        pass

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        pass

    def stream_opened(self) -> None:
        pass

    def stream_closed(self) -> None:
        pass

    def provider_failed(self, provider: str, error: str) -> None:
        pass

    def cooldown_started(self, provider: str) -> None:
        pass

    def quota_refused(self, reason: str) -> None:
        pass


NO_TELEMETRY: Telemetry = NoTelemetry()
