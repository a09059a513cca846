"""Platform identities, chat profiles and conversation shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.prepared import Prepared, run
from switchboard.adapters.storage.tables import platform_identities, profiles, shares
from switchboard.adapters.storage.users import execute_or_conflict
from switchboard.adapters.storage.values import TYPED, Codec, codec_for
from switchboard.core.domain.platforms import PlatformIdentity, Profile, Share

_GLOBAL = 0  # owner_id stored for identities not scoped under another user


def _identity_from_row(row: Mapping[str, Any]) -> PlatformIdentity:
    return PlatformIdentity(
        platform=row["platform"], external_id=row["external_id"], user_id=int(row["user_id"]),
        created_at=row["created_at"], display_name=row["display_name"],
        owner_id=int(row["owner_id"]) or None, settings=dict(row["settings"] or {}),
    )


class SqlIdentityRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    def _key(self, platform: str, external_id: str, owner_id: int | None) -> Any:
        c = platform_identities.c
        return (c.platform == platform) & (c.external_id == external_id) & (c.owner_id == (owner_id or _GLOBAL))

    async def get(self, platform: str, external_id: str, owner_id: int | None = None) -> PlatformIdentity | None:
        statement = select(platform_identities).where(self._key(platform, external_id, owner_id))
        row = (await self._connection.execute(statement)).mappings().first()
        return _identity_from_row(row) if row else None

    async def add(self, identity: PlatformIdentity) -> None:
        statement = insert(platform_identities).values(
            platform=identity.platform, external_id=identity.external_id, owner_id=identity.owner_id or _GLOBAL,
            user_id=identity.user_id, display_name=identity.display_name, settings=identity.settings,
            created_at=identity.created_at,
        )
        await execute_or_conflict(
            self._connection, statement, f"{identity.platform} id '{identity.external_id}' is already linked"
        )

    async def update(self, identity: PlatformIdentity) -> None:
        statement = update(platform_identities).where(
            self._key(identity.platform, identity.external_id, identity.owner_id)
        ).values(user_id=identity.user_id, display_name=identity.display_name, settings=identity.settings)
        await self._connection.execute(statement)

    async def take(self, platform: str, external_id: str) -> bool:
        # one DELETE: of two transactions racing for the row, only one sees it go
        statement = delete(platform_identities).where(self._key(platform, external_id, None))
        result = await self._connection.execute(statement)
        return bool(result.rowcount)

    async def list(
        self, platform: str, page: int, page_size: int, external_id: str | None = None, owner_id: int | None = None
    ) -> tuple[list[PlatformIdentity], int]:
        c = platform_identities.c
        condition = c.platform == platform
        if external_id is not None:
            condition &= c.external_id == external_id
        if owner_id is not None:
            condition &= c.owner_id == owner_id
        total = await self._connection.scalar(select(func.count()).select_from(platform_identities).where(condition))
        statement = (
            select(platform_identities).where(condition).order_by(c.id).limit(page_size).offset((page - 1) * page_size)
        )
        rows = (await self._connection.execute(statement)).mappings().all()
        return [_identity_from_row(r) for r in rows], int(total or 0)

    async def for_user(self, user_id: int) -> list[PlatformIdentity]:
        statement = select(platform_identities).where(platform_identities.c.user_id == user_id)
        return [_identity_from_row(r) for r in (await self._connection.execute(statement)).mappings().all()]


# Selected in the order _profile_from_row unpacks them.
_PROFILE_COLUMNS = tuple(profiles.c[name] for name in (
    "id", "name", "created_at", "updated_at", "model", "system_prompt", "temperature", "tools_enabled",
    "allowed_tools", "is_default"))
# the chat turn's read of its conversation's profile, run as a prepared statement (prepared.py)
_GET_PROFILE = Prepared(select(*_PROFILE_COLUMNS).where(profiles.c.id == bindparam("b_id")))


def _profile_from_row(row: Sequence[Any], codec: Codec = TYPED) -> Profile:
    (id_, name, created_at, updated_at, model, system_prompt, temperature, tools_enabled, allowed_tools, is_default,
     *_) = row
    return Profile(
        id=id_, name=name, created_at=codec.time_out(created_at), updated_at=codec.time_out(updated_at),
        model=model, system_prompt=system_prompt, temperature=temperature, tools_enabled=bool(tools_enabled),
        allowed_tools=codec.json_out(allowed_tools), is_default=bool(is_default),
    )


class SqlProfileRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, profile_id: str) -> Profile | None:
        rows, _count = await run(self._connection, _GET_PROFILE, {"b_id": profile_id})
        return _profile_from_row(rows[0], codec_for(self._connection)) if rows else None

    async def by_name(self, name: str) -> Profile | None:
        row = (await self._connection.execute(select(*_PROFILE_COLUMNS).where(profiles.c.name == name))).first()
        return _profile_from_row(row) if row else None

    async def list(self) -> list[Profile]:
        statement = select(*_PROFILE_COLUMNS).order_by(profiles.c.created_at, profiles.c.id)
        rows = (await self._connection.execute(statement)).all()
        return [_profile_from_row(r) for r in rows]

    async def put(self, profile: Profile) -> None:
        values = {
            "name": profile.name, "model": profile.model, "system_prompt": profile.system_prompt,
            "temperature": profile.temperature, "tools_enabled": profile.tools_enabled,
            "allowed_tools": profile.allowed_tools, "is_default": profile.is_default,
            "updated_at": profile.updated_at,
        }
        exists = await self._connection.scalar(select(profiles.c.id).where(profiles.c.id == profile.id))
        if exists:
            statement: Any = update(profiles).where(profiles.c.id == profile.id).values(**values)
        else:
            statement = insert(profiles).values(id=profile.id, created_at=profile.created_at, **values)
        await execute_or_conflict(self._connection, statement, f"a profile named '{profile.name}' exists")

    async def delete(self, profile_id: str) -> None:
        await self._connection.execute(delete(profiles).where(profiles.c.id == profile_id))


def _share_from_row(row: Mapping[str, Any]) -> Share:
    return Share(
        id=row["id"], user_id=int(row["user_id"]), conversation_id=row["conversation_id"],
        created_at=row["created_at"], revoked_at=row["revoked_at"], title=row["title"],
        snapshot=row["snapshot"],
    )


class SqlShareRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, share: Share) -> None:
        await self._connection.execute(insert(shares).values(
            id=share.id, user_id=share.user_id, conversation_id=share.conversation_id, title=share.title,
            created_at=share.created_at, revoked_at=share.revoked_at, snapshot=share.snapshot,
        ))

    async def get(self, share_id: str) -> Share | None:
        row = (await self._connection.execute(select(shares).where(shares.c.id == share_id))).mappings().first()
        return _share_from_row(row) if row else None

    async def update(self, share: Share) -> None:
        await self._connection.execute(
            update(shares).where(shares.c.id == share.id).values(title=share.title, revoked_at=share.revoked_at)
        )

    async def for_conversation(self, conversation_id: str) -> list[Share]:
        statement = select(shares).where(shares.c.conversation_id == conversation_id).order_by(shares.c.created_at)
        return [_share_from_row(r) for r in (await self._connection.execute(statement)).mappings().all()]
