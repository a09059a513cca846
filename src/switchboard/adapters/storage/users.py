"""Users and their credentials: accounts, API keys and revoked access tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from switchboard.adapters.storage.engine import upsert_into
from switchboard.adapters.storage.prepared import Prepared, run
from switchboard.adapters.storage.tables import api_keys, revoked_tokens, users
from switchboard.adapters.storage.values import TYPED, Codec, codec_for
from switchboard.core.domain.errors import Conflict
from switchboard.core.domain.users import ApiKey, Role, Scope, User


async def execute_or_conflict(connection: AsyncConnection, statement: Executable, message: str) -> Any:
    """Run a write that may hit a unique constraint; report it as Conflict.

    The savepoint keeps the surrounding transaction usable after the failure (PostgreSQL would
    otherwise refuse every later statement in it).
    """
    try:
        async with connection.begin_nested():
            return await connection.execute(statement)
    except IntegrityError as exc:
        raise Conflict(message) from exc


# Selected in the order user_from_row unpacks them.
USER_COLUMNS = tuple(users.c[name] for name in (
    "id", "username", "email", "role", "is_active", "created_at", "password_hash", "settings"))
# the chat turn's read of its user, run as a prepared statement (prepared.py)
_GET_USER = Prepared(select(*USER_COLUMNS).where(users.c.id == bindparam("b_id")))


def user_from_row(row: Sequence[Any], codec: Codec = TYPED) -> User:
    id_, username, email, role, is_active, created_at, password_hash, settings, *_ = row
    return User(
        id=id_,
        username=username,
        email=email,
        role=Role(role),
        is_active=bool(is_active),
        created_at=codec.time_out(created_at),
        password_hash=password_hash,
        settings=dict(codec.json_out(settings) or {}),
    )


def _user_values(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "password_hash": user.password_hash,
        "role": user.role.value,
        "is_active": user.is_active,
        "settings": user.settings,
    }


class SqlUserRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, username: str, email: str | None, password_hash: str | None, role: Role) -> User:
        statement = (
            insert(users)
            .values(
                username=username,
                email=email,
                password_hash=password_hash,
                role=role.value,
                is_active=True,
                settings={},
                created_at=datetime.now(UTC),
            )
            .returning(*USER_COLUMNS)
        )
        result = await execute_or_conflict(self._connection, statement, f"username {username!r} is taken")
        return user_from_row(result.one())

    async def get(self, user_id: int) -> User | None:
        rows, _count = await run(self._connection, _GET_USER, {"b_id": user_id})
        return user_from_row(rows[0], codec_for(self._connection)) if rows else None

    async def by_username(self, username: str) -> User | None:
        statement = select(*USER_COLUMNS).where(users.c.username == username)
        row = (await self._connection.execute(statement)).first()
        return user_from_row(row) if row else None

    async def list(self, page: int, page_size: int, query: str | None = None) -> tuple[list[User], int]:
        """Page numbers start at 1; `query` matches a part of the username or email, any case."""
        conditions = []
        if query:
            conditions.append(
                or_(
                    users.c.username.icontains(query, autoescape=True),
                    users.c.email.icontains(query, autoescape=True),
                )
            )
        total = await self._connection.scalar(select(func.count()).select_from(users).where(*conditions))
        statement = (
            select(*USER_COLUMNS)
            .where(*conditions)
            .order_by(users.c.id)
            .limit(page_size)
            .offset((max(page, 1) - 1) * page_size)
        )
        rows = (await self._connection.execute(statement)).all()
        return [user_from_row(row) for row in rows], int(total or 0)

    async def update(self, user: User) -> None:
        statement = update(users).where(users.c.id == user.id).values(**_user_values(user))
        await execute_or_conflict(self._connection, statement, f"username {user.username!r} is taken")

    async def count_admins(self) -> int:
        """Active admins only: a disabled admin cannot rescue the server."""
        statement = (
            select(func.count()).select_from(users).where(users.c.role == Role.ADMIN.value, users.c.is_active.is_(True))
        )
        return int(await self._connection.scalar(statement) or 0)


def _key_from_row(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        scopes=frozenset(Scope(s) for s in row["scopes"] or []),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
        allowed_models=tuple(row["allowed_models"] or ()),
        rpm_limit=row["rpm_limit"],
        tpm_limit=row["tpm_limit"],
        token_quota=row["token_quota"],
        tokens_used=int(row["tokens_used"] or 0),
        tokens_reserved=int(row["tokens_reserved"] or 0),
    )


def _key_values(key: ApiKey) -> dict[str, Any]:
    return {
        "user_id": key.user_id,
        "name": key.name,
        "prefix": key.prefix,
        "key_hash": key.key_hash,
        "scopes": sorted(scope.value for scope in key.scopes),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "last_used_at": key.last_used_at,
        "allowed_models": list(key.allowed_models),
        "rpm_limit": key.rpm_limit,
        "tpm_limit": key.tpm_limit,
        "token_quota": key.token_quota,
    }


class SqlApiKeyRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, key: ApiKey) -> None:
        statement = insert(api_keys).values(id=key.id, **_key_values(key))
        await execute_or_conflict(self._connection, statement, "an API key with this id or hash exists")

    async def get(self, key_id: str) -> ApiKey | None:
        return await self._one(select(api_keys).where(api_keys.c.id == key_id))

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return await self._one(select(api_keys).where(api_keys.c.key_hash == key_hash))

    async def list_for_user(self, user_id: int) -> list[ApiKey]:
        statement = select(api_keys).where(api_keys.c.user_id == user_id).order_by(api_keys.c.created_at, api_keys.c.id)
        rows = (await self._connection.execute(statement)).mappings().all()
        return [_key_from_row(row) for row in rows]

    async def list_with_owners(self, user_id: int | None) -> list[tuple[ApiKey, str]]:
        statement = select(api_keys, users.c.username).join(users, users.c.id == api_keys.c.user_id)
        if user_id is not None:
            statement = statement.where(api_keys.c.user_id == user_id)
        rows = (await self._connection.execute(statement.order_by(api_keys.c.created_at, api_keys.c.id))).mappings()
        return [(_key_from_row(row), str(row["username"])) for row in rows.all()]

    async def update(self, key: ApiKey) -> None:
        await self._connection.execute(update(api_keys).where(api_keys.c.id == key.id).values(**_key_values(key)))

    async def touch(self, key_id: str, at: datetime) -> None:
        await self._connection.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at))

    async def take_quota(self, key_id: str, tokens: int) -> bool:
        quota, used, held = api_keys.c.token_quota, api_keys.c.tokens_used, api_keys.c.tokens_reserved
        statement = update(api_keys).where(  # what calls in flight hold is not the maker's to give
            api_keys.c.id == key_id, quota.is_not(None), quota - used - held >= tokens,
        ).values(tokens_used=used + tokens)
        return bool((await self._connection.execute(statement)).rowcount == 1)

    async def _one(self, statement: Any) -> ApiKey | None:
        row = (await self._connection.execute(statement)).mappings().first()
        return _key_from_row(row) if row else None


class SqlRevokedTokenRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def revoke(self, token_id: str, expires_at: datetime) -> None:
        # Revoking twice (a double logout) is not an error.
        statement = (
            upsert_into(self._connection, revoked_tokens)
            .values(token_id=token_id, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["token_id"])
        )
        await self._connection.execute(statement)

    async def is_revoked(self, token_id: str) -> bool:
        statement = select(revoked_tokens.c.token_id).where(revoked_tokens.c.token_id == token_id)
        return (await self._connection.scalar(statement)) is not None
