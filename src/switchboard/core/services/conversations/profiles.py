"""Chat profiles (AstrBot's config files): named bundles of model, persona, temperature and tools.

Everyone may list and read them (a conversation bound to one uses it); only administrators change
them. The profile `default` always exists (made at start) and cannot be deleted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchboard.core.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.platforms import Profile
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock

DEFAULT_PROFILE_ID = "default"
_NAME = re.compile(r"^[^\x00-\x1f]{1,100}$")


@dataclass(slots=True)
class ProfileDraft:
    """What an administrator sends to create a profile, or the fields to change (None = keep)."""

    name: str | None = None
    model: str | None = None
    system_prompt: str | None = None
    temperature: float | None = None
    tools_enabled: bool | None = None
    allowed_tools: list[str] | None = None
    # a field named here is set to None even though its draft value is None (e.g. clear the model)
    clear: frozenset[str] = frozenset()


class ProfileService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def ensure_default(self) -> Profile:
        """Every worker runs this as it starts: on a new database several may find no default
        profile at once, and the ones whose insert loses read the winner's instead of failing."""
        try:
            async with self._uow() as tx:
                found = await tx.profiles.get(DEFAULT_PROFILE_ID)
                if found is not None:
                    return found
                now = self._clock.now()
                profile = Profile(DEFAULT_PROFILE_ID, "default", now, now, is_default=True)
                await tx.profiles.put(profile)
                return profile
        except Conflict:
            async with self._uow() as tx:
                found = await tx.profiles.get(DEFAULT_PROFILE_ID)
            if found is None:
                raise
            return found

    async def list(self) -> list[Profile]:
        async with self._uow() as tx:
            return await tx.profiles.list()

    async def get(self, profile_id: str) -> Profile:
        async with self._uow() as tx:
            profile = await tx.profiles.get(profile_id)
        if profile is None:
            raise NotFound(f"config_id not found: {profile_id}")
        return profile

    async def by_name(self, name: str) -> Profile:
        async with self._uow() as tx:
            profile = await tx.profiles.by_name(name)
        if profile is None:
            raise NotFound(f"config_name not found: {name}")
        return profile

    async def resolve(self, profile_id: str | None, name: str | None) -> Profile | None:
        """The profile a request names by id (preferred) or by name; None when it names none."""
        profile_id, name = (profile_id or "").strip(), (name or "").strip()
        if profile_id:
            return await self.get(profile_id)
        if name:
            return await self.by_name(name)
        return None

    async def create(self, principal: Principal, draft: ProfileDraft) -> Profile:
        _require_admin(principal)
        if not draft.name:
            raise InvalidInput("a profile needs a name", param="name")
        now = self._clock.now()
        profile = Profile(new_id("prof"), draft.name, now, now, tools_enabled=True)
        _apply(profile, draft)
        async with self._uow() as tx:
            if await tx.profiles.by_name(profile.name) is not None:
                raise Conflict(f"a profile named '{profile.name}' exists")
            await tx.profiles.put(profile)
        return profile

    async def update(self, principal: Principal, profile_id: str, draft: ProfileDraft) -> Profile:
        _require_admin(principal)
        async with self._uow() as tx:
            profile = await tx.profiles.get(profile_id)
            if profile is None:
                raise NotFound(f"no profile with id '{profile_id}'")
            if draft.name and draft.name != profile.name:
                if profile.is_default:
                    raise Conflict("the default profile keeps its name")
                if await tx.profiles.by_name(draft.name) is not None:
                    raise Conflict(f"a profile named '{draft.name}' exists")
            _apply(profile, draft)
            profile.updated_at = self._clock.now()
            await tx.profiles.put(profile)
        return profile

    async def delete(self, principal: Principal, profile_id: str) -> None:
        _require_admin(principal)
        async with self._uow() as tx:
            profile = await tx.profiles.get(profile_id)
            if profile is None:
                raise NotFound(f"no profile with id '{profile_id}'")
            if profile.is_default or profile.id == DEFAULT_PROFILE_ID:
                raise Conflict("the default profile cannot be deleted")
            await tx.profiles.delete(profile_id)


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only an administrator may change chat profiles")


def _apply(profile: Profile, draft: ProfileDraft) -> None:
    if draft.name is not None:
        if not _NAME.match(draft.name) or not draft.name.strip():
            raise InvalidInput("a profile name has 1-100 printable characters", param="name")
        profile.name = draft.name.strip()
    if draft.temperature is not None and not 0 <= draft.temperature <= 2:
        raise InvalidInput("temperature must be between 0 and 2", param="temperature")
    for field in ("model", "system_prompt", "temperature", "tools_enabled", "allowed_tools"):
        value = getattr(draft, field)
        if value is not None or field in draft.clear:
            setattr(profile, field, value if value is not None or field != "tools_enabled" else True)
