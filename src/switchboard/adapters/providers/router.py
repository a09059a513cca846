"""Which providers the gateway tries for a model, in which order, and which sit out for a while.

Several providers may serve one model (configured lists or their own /models listing), each with
a weight: the order of attempts is a weighted random permutation (Efraimidis-Spirakis keys), so
traffic splits by weight and a failure falls through to the others. A provider that failed
`failures_to_cool` times in a row before its first byte is left out for `cooldown_seconds`; after
that it is tried again, and one more failure sends it straight back (one success forgives all).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from switchboard.adapters.providers.catalog import CatalogEntry, ProviderCatalog
from switchboard.core.domain.chat import ProviderStatus
from switchboard.core.domain.errors import UnknownModel, UpstreamUnavailable
from switchboard.core.ports.gateway import RelayProvider
from switchboard.core.ports.telemetry import NO_TELEMETRY, Telemetry

MAX_ERROR_CHARS = 500


@dataclass(slots=True)
class Health:
    failures: int = 0  # in a row
    cool_until: float = 0.0
    last_error: str | None = None  # of the latest failure in the current run of them


class WeightedRouter:
    def __init__(
        self, catalog: ProviderCatalog, *, cooldown_seconds: float = 30.0, failures_to_cool: int = 3,
        rng: random.Random | None = None, clock: Callable[[], float] = time.monotonic,
        builtin: Mapping[str, RelayProvider] | None = None, telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._catalog = catalog
        self._builtin = dict(builtin or {})  # models Switchboard answers itself (the offline echo demo)
        self._cooldown = cooldown_seconds
        self._threshold = max(failures_to_cool, 1)
        self._rng = rng or random.Random()
        self._clock = clock
        self._health: dict[str, Health] = {}
        self._telemetry = telemetry

    async def candidates(self, model: str, *, media: bool = False) -> list[tuple[RelayProvider, str]]:
        if model in self._builtin:
            return [(self._builtin[model], model)]
        name, entries = await self._catalog.serving(model)
        relays = [e for e in entries if _relays(e)]
        if not relays and media:
            every = [e for e in self._catalog.entries if _relays(e)]
            relays = every if len(every) == 1 else []
        if not relays:
            raise UnknownModel(f"The model '{model}' does not exist; available: {self._catalog.known_names()}",
                               param="model")
        now = self._clock()
        ready = [e for e in relays if self.health(e.provider.name).cool_until <= now]
        if not ready:
            wait = min(self.health(e.provider.name).cool_until for e in relays) - now
            raise UpstreamUnavailable(
                f"every provider of '{model}' failed repeatedly and is cooling down; try again in {wait:.0f} s",
                retryable=True,
            )
        return [(e.provider, name) for e in self._order(ready)]  # type: ignore[misc]

    def report(self, provider: str, ok: bool, error: str | None = None) -> None:
        health = self.health(provider)
        if ok:
            health.failures, health.cool_until, health.last_error = 0, 0.0, None
            return
        health.failures += 1
        health.last_error = (error or "failed")[:MAX_ERROR_CHARS]
        if health.failures >= self._threshold:
            health.cool_until = self._clock() + self._cooldown
            self._telemetry.cooldown_started(provider)

    def health(self, provider: str) -> Health:
        return self._health.setdefault(provider, Health())

    def statuses(self) -> list[ProviderStatus]:
        """Each configured provider as routing last saw it (the cool-downs run on the monotonic
        clock; they are shown on the wall clock)."""
        now, wall = self._clock(), datetime.now(UTC)
        statuses = []
        for provider, models, listing_error in self._catalog.listings():
            health = self._health.get(provider.name, Health())
            cooling = health.cool_until > now
            statuses.append(ProviderStatus(
                name=provider.name, base_url=str(getattr(provider, "base_url", "")), models=tuple(models),
                healthy=health.failures == 0 and listing_error is None,
                cooling_down_until=wall + timedelta(seconds=health.cool_until - now) if cooling else None,
                last_error=health.last_error or listing_error,
            ))
        return statuses

    def _order(self, entries: list[CatalogEntry]) -> list[CatalogEntry]:
        if len(entries) == 1:
            return entries

        def key(entry: CatalogEntry) -> float:
            weight = max(entry.weight, 0)
            return self._rng.random() ** (1.0 / weight) if weight else -1.0

        return sorted(entries, key=key, reverse=True)


def _relays(entry: CatalogEntry) -> bool:
    return callable(getattr(entry.provider, "relay", None))
