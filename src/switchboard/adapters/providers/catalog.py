"""Which provider serves which model: configured lists, upstream listings, aliases, and the
built-in offline `echo` demo model, which is always there so a fresh install can chat at once."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from switchboard.adapters.providers.echo import ECHO_MODEL, EchoProvider
from switchboard.core.domain.chat import ModelInfo
from switchboard.core.domain.errors import UnknownModel
from switchboard.core.ports.media import MediaProvider
from switchboard.core.ports.providers import ChatProvider

log = logging.getLogger(__name__)

ECHO_INFO = ModelInfo(
    id=ECHO_MODEL, provider="echo", owned_by="switchboard", builtin=True,
    description="Offline demo model: repeats your last message back. No API key or network needed.",
)
_SHOWN_IN_ERRORS = 20


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    provider: ChatProvider
    models: Sequence[str] | None = None  # None: ask the provider (GET /models)
    weight: int = 1  # share of traffic when several providers serve one model


@dataclass(slots=True)
class _Slot:
    """One provider's models, as configured or as last listed (with when to list again)."""

    entry: CatalogEntry
    models: list[str] = field(default_factory=list)
    served: frozenset[str] = frozenset()
    expires_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    listing_error: str | None = None  # why the last listing failed (cleared by one that works)


class ProviderCatalog:
    def __init__(
        self,
        entries: Sequence[CatalogEntry | tuple[ChatProvider, Sequence[str] | None, int]],
        *,
        default_model: str | None = None,
        aliases: Mapping[str, str] | None = None,
        echo: ChatProvider | None = None,
        listing_ttl: float = 300.0,
        listing_retry: float = 30.0,  # after a failed listing, try again this much later
        listing_timeout: float = 15.0,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slots = [_Slot(e if isinstance(e, CatalogEntry) else CatalogEntry(*e)) for e in entries]
        for slot in self._slots:
            if slot.entry.models is not None:
                slot.models = list(slot.entry.models)
                slot.served = frozenset(slot.models)
                slot.expires_at = float("inf")
        self._default = default_model
        self._aliases = dict(aliases or {})
        self._echo = echo or EchoProvider()
        self._ttl = listing_ttl
        self._retry = listing_retry
        self._listing_timeout = listing_timeout
        self._rng = rng or random.Random()
        self._clock = clock

    @property
    def default_model(self) -> str:
        """The configured default, else the first provider model known so far, else `echo`.
        Listed models are known after `refresh()` (the app calls it at startup) or `models()`."""
        if self._default:
            return self._default
        for slot in self._slots:
            if slot.models:
                return slot.models[0]
        return ECHO_MODEL

    def use_default(self, model: str | None) -> None:
        """The administrator's live `default_model` (runtime settings); None falls back as above."""
        self._default = model

    async def refresh(self) -> None:
        """Lists every provider whose listing is missing or stale; failures are only logged."""
        await asyncio.gather(*(self._models_of(slot) for slot in self._slots))

    async def models(self) -> list[ModelInfo]:
        await self.refresh()
        infos: dict[str, ModelInfo] = {}
        for slot in self._slots:
            name = slot.entry.provider.name
            for model in slot.models:
                infos.setdefault(model, ModelInfo(id=model, provider=name, owned_by=name))
        infos.setdefault(ECHO_MODEL, ECHO_INFO)
        for alias, target in self._aliases.items():
            if target in infos and alias not in infos:
                served = infos[target]
                infos[alias] = ModelInfo(
                    id=alias, provider=served.provider, owned_by=served.owned_by,
                    builtin=served.builtin, description=f"alias of {target}", alias_of=target,
                )
        return list(infos.values())

    async def resolve(self, model: str) -> tuple[ChatProvider, str]:
        name = self._aliases.get(model, model)
        candidates: list[_Slot] = []
        for slot in self._slots:
            if name in await self._models_of(slot):
                candidates.append(slot)
        chosen = self._choose(name, candidates)
        if chosen is None:
            raise UnknownModel(f"unknown model '{model}'; available: {self._known_names()}", param="model")
        return chosen

    def resolve_cached(self, model: str) -> tuple[ChatProvider, str] | None:
        # Called from a storage step, maybe on SQLite's writer thread: it only reads the slots,
        # whose fields the event loop replaces whole (a stale read is a listing that just expired).
        now = self._clock()
        if any(slot.expires_at <= now for slot in self._slots):
            return None
        name = self._aliases.get(model, model)
        return self._choose(name, [slot for slot in self._slots if name in slot.served])

    async def serving(self, model: str) -> tuple[str, list[CatalogEntry]]:
        """The model's upstream name (aliases resolved) and every entry that serves it, in order."""
        name = self._aliases.get(model, model)
        return name, [slot.entry for slot in self._slots if name in await self._models_of(slot)]

    @property
    def entries(self) -> list[CatalogEntry]:
        return [slot.entry for slot in self._slots]

    def listings(self) -> list[tuple[ChatProvider, list[str], str | None]]:
        """Each configured provider with the models it is known to serve so far and why its last
        listing failed; lists nothing anew."""
        return [(slot.entry.provider, list(slot.models), slot.listing_error) for slot in self._slots]

    def known_names(self) -> str:
        return self._known_names()

    async def resolve_media(self, model: str) -> tuple[MediaProvider, str]:
        """A provider that lists the media model (weighted like chat); when none lists it (image and
        audio models are often missing from /models) and only one media-capable provider exists,
        that one."""
        name = self._aliases.get(model, model)
        media = [slot for slot in self._slots if _is_media(slot.entry.provider)]
        listing = [slot for slot in media if name in await self._models_of(slot)]
        if listing:
            chosen = self._pick(listing)
        elif len(media) == 1:
            chosen = media[0]
        else:
            raise UnknownModel(f"no provider serves the media model '{model}'", param="model")
        return chosen.entry.provider, name  # type: ignore[return-value]

    async def close(self) -> None:
        providers = {id(s.entry.provider): s.entry.provider for s in self._slots}
        providers[id(self._echo)] = self._echo
        results = await asyncio.gather(*(p.close() for p in providers.values()), return_exceptions=True)
        for provider, result in zip(providers.values(), results, strict=True):
            if isinstance(result, BaseException):
                log.warning("closing provider %r failed: %s", provider.name, result)

    async def _models_of(self, slot: _Slot) -> frozenset[str]:
        if slot.expires_at > self._clock():
            return slot.served
        async with slot.lock:  # one listing at a time per provider, however many callers wait
            if slot.expires_at > self._clock():
                return slot.served
            provider = slot.entry.provider
            try:
                async with asyncio.timeout(self._listing_timeout):
                    listed = await provider.list_models()
            except Exception as exc:  # any failure: this provider sits out, the others still serve
                log.warning("could not list the models of provider %r: %s", provider.name, exc)
                slot.expires_at = self._clock() + self._retry  # keeps a stale list if it had one
                slot.listing_error = f"listing its models failed: {str(exc) or type(exc).__name__}"
            else:
                slot.listing_error = None
                slot.models = list(dict.fromkeys(listed))
                slot.served = frozenset(slot.models)
                slot.expires_at = self._clock() + self._ttl
        return slot.served

    def _choose(self, name: str, candidates: list[_Slot]) -> tuple[ChatProvider, str] | None:
        if candidates:
            return self._pick(candidates).entry.provider, name
        if name == ECHO_MODEL:
            return self._echo, ECHO_MODEL
        return None

    def _pick(self, candidates: list[_Slot]) -> _Slot:
        if len(candidates) == 1:
            return candidates[0]
        weights = [max(slot.entry.weight, 0) for slot in candidates]
        if not any(weights):
            weights = [1] * len(candidates)
        return self._rng.choices(candidates, weights)[0]

    def _known_names(self) -> str:
        names = list(dict.fromkeys([m for s in self._slots for m in s.models] + [ECHO_MODEL, *self._aliases]))
        shown = ", ".join(names[:_SHOWN_IN_ERRORS])
        return shown + (f" and {len(names) - _SHOWN_IN_ERRORS} more" if len(names) > _SHOWN_IN_ERRORS else "")


def _is_media(provider: object) -> bool:
    return callable(getattr(provider, "generate_images", None)) and getattr(provider, "name", "") != "echo"
