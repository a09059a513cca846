"""The IM platforms' admin operations (native /api/admin/platforms). Admins only.

    await platforms.add(admin, TelegramPlatform(id="tg", type="telegram", token="123:ABC"))
    await platforms.replace(admin, "tg", edited)      # a secret sent back as "***" keeps the saved one
    await platforms.set_enabled(admin, "tg", False)   # stopped, kept
    await platforms.remove(admin, "tg")

The config file's `platforms:` gives the entries to start with; every change made here is saved in
the settings table under `platforms` (by id: each entry that differs from the file's) and wins over
the file's entry with the same id at the next start. A file entry deleted here stays deleted
(`platformsRemoved`) until one with its id is added again — as the MCP servers are kept
(tools/catalog.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from switchboard.core.domain.errors import Conflict, InvalidInput, NotFound
from switchboard.core.domain.platform_settings import MASK, PLATFORM_SETTINGS, SECRETS, PlatformSettings
from switchboard.core.domain.platforms import ImBot
from switchboard.core.domain.users import Principal
from switchboard.core.ports.platforms import PlatformRegistry
from switchboard.core.ports.push import ChangeAnnouncer
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.services.accounts.guards import require_admin

log = logging.getLogger(__name__)

PLATFORMS_KEY = "platforms"
PLATFORMS_REMOVED_KEY = "platformsRemoved"


class PlatformAdminService:
    def __init__(self, uow: UnitOfWork, registry: PlatformRegistry) -> None:
        self._uow = uow
        self._registry = registry
        self._lock = asyncio.Lock()  # one change at a time: each saves the whole map
        self._file: dict[str, PlatformSettings] = {}  # the config file's entries; only others are saved
        self.announcer: ChangeAnnouncer | None = None  # other workers follow() when told

    async def startup_entries(self, file_entries: Iterable[PlatformSettings]) -> list[PlatformSettings]:
        """The file's entries, minus those deleted at runtime, replaced by those saved at runtime.
        A saved entry that no longer fits is logged and left out, never fatal."""
        async with self._uow() as tx:
            saved = await tx.settings.get(PLATFORMS_KEY)
            removed = set(await tx.settings.get(PLATFORMS_REMOVED_KEY) or [])
        self._file = {p.id: p for p in file_entries}
        kept = {k: p for k, p in self._file.items() if k not in removed}
        for platform_id, entry in (saved or {}).items() if isinstance(saved, dict) else ():
            try:
                kept[platform_id] = PLATFORM_SETTINGS.validate_python({**entry, "id": platform_id})
            except (ValidationError, TypeError) as exc:
                log.warning("saved platform %r ignored: %s", platform_id, exc)
        return list(kept.values())

    async def follow(self, file_entries: Iterable[PlatformSettings]) -> None:
        """Another worker changed the platforms: start, restart or stop ours to match what it saved."""
        async with self._lock:
            wanted = {p.id: p for p in await self.startup_entries(file_entries)}
            running = self._registry.entries()
            for platform_id in running.keys() - wanted.keys():
                await self._registry.remove(platform_id)
            for platform_id, settings in wanted.items():
                if running.get(platform_id) != settings:
                    await self._registry.put(settings)

    def list(self, principal: Principal) -> list[ImBot]:
        require_admin(principal)
        return self._registry.states()

    def get(self, principal: Principal, platform_id: str) -> ImBot:
        require_admin(principal)
        return self._state(platform_id)

    async def add(self, principal: Principal, settings: PlatformSettings) -> ImBot:
        require_admin(principal)
        async with self._lock:
            if settings.id in self._registry.entries():
                raise Conflict(f"a platform '{settings.id}' exists already; edit it with PUT", param="id")
            if any(getattr(settings, key, None) == MASK for key in SECRETS):
                raise InvalidInput(f"'{MASK}' stands for a saved secret; a new platform needs the secret itself",
                                   param="token")
            await self._save({**self._registry.entries(), settings.id: settings}, restored=settings.id)
            return await self._registry.put(settings)

    async def replace(self, principal: Principal, platform_id: str, settings: PlatformSettings) -> ImBot:
        """The platform's new settings, whole; it is restarted with them."""
        require_admin(principal)
        if settings.id != platform_id:
            raise InvalidInput(f"the body's id '{settings.id}' is not the path's '{platform_id}'", param="id")
        async with self._lock:
            settings = _keeping_secrets(settings, self._entry(platform_id))
            await self._save({**self._registry.entries(), platform_id: settings})
            return await self._registry.put(settings)

    async def set_enabled(self, principal: Principal, platform_id: str, enabled: bool) -> ImBot:
        require_admin(principal)
        async with self._lock:
            settings = self._entry(platform_id).model_copy(update={"enabled": enabled})
            await self._save({**self._registry.entries(), platform_id: settings})
            return await self._registry.put(settings)

    async def remove(self, principal: Principal, platform_id: str) -> None:
        require_admin(principal)
        async with self._lock:
            self._entry(platform_id)
            await self._save({k: v for k, v in self._registry.entries().items() if k != platform_id},
                             removed=platform_id)
            await self._registry.remove(platform_id)

    def _entry(self, platform_id: str) -> PlatformSettings:
        entry = self._registry.entries().get(platform_id)
        if entry is None:
            raise NotFound(f"no platform '{platform_id}'", param="id")
        return entry

    def _state(self, platform_id: str) -> ImBot:
        state = next((b for b in self._registry.states() if b.platform_id == platform_id), None)
        if state is None:
            raise NotFound(f"no platform '{platform_id}'", param="id")
        return state

    async def _save(self, entries: dict[str, PlatformSettings], removed: str | None = None,
                    restored: str | None = None) -> None:
        saved: dict[str, Any] = {k: v.model_dump(mode="json", exclude_defaults=True)
                                 for k, v in entries.items() if self._file.get(k) != v}
        async with self._uow() as tx:
            await tx.settings.put(PLATFORMS_KEY, saved)
            if removed is not None or restored is not None:
                gone: set[str] = set(await tx.settings.get(PLATFORMS_REMOVED_KEY) or [])
                gone.discard(restored or "")
                if removed is not None:
                    gone.add(removed)
                await tx.settings.put(PLATFORMS_REMOVED_KEY, sorted(gone))
        if self.announcer is not None:
            self.announcer.announce("platforms")


def _keeping_secrets(new: PlatformSettings, old: PlatformSettings) -> PlatformSettings:
    """A secret sent back masked is the saved one; masked where the old entry has no such secret
    (the type changed), it is refused rather than taken as the secret."""
    kept: dict[str, object] = {}
    for key in SECRETS:
        if getattr(new, key, None) != MASK:
            continue
        if not getattr(old, key, None):
            raise InvalidInput(f"'{MASK}' stands for a saved secret, and '{key}' has none: send the secret itself",
                               param=key)
        kept[key] = getattr(old, key)
    return new.model_copy(update=kept) if kept else new
