"""API keys: random, shown once, stored hashed, scoped, optionally expiring, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from switchboard.core.domain.errors import Forbidden, InvalidInput, NotFound
from switchboard.core.domain.ids import new_id, new_secret
from switchboard.core.domain.users import ApiKey, Principal, Role, Scope
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.accounts.auth import API_KEY_PREFIX, hash_api_key
from switchboard.core.services.accounts.principal_cache import PrincipalCache

DEFAULT_SCOPES = frozenset({Scope.CHAT, Scope.FILE})


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once, never stored


@dataclass(frozen=True, slots=True)
class KeyOptions:
    name: str = "default"
    scopes: frozenset[Scope] = DEFAULT_SCOPES
    expires_days: int | None = None
    allowed_models: tuple[str, ...] = ()
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    token_quota: int | None = None  # tokens this key may spend in all (None: the user's allowance only)


@dataclass(frozen=True, slots=True)
class KeyChange:
    """What an edit changes: only the fields named in `given` (there, None removes a limit)."""

    given: frozenset[str] = frozenset()
    name: str = ""
    allowed_models: tuple[str, ...] = ()
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    token_quota: int | None = None


_EDITABLE = frozenset({"name", "allowed_models", "rpm_limit", "tpm_limit", "token_quota"})


class KeyService:
    def __init__(self, uow: UnitOfWork, clock: Clock, cache: PrincipalCache | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._cache = cache or PrincipalCache(ttl=0)

    async def create(self, principal: Principal, options: KeyOptions, *, for_user: int | None = None) -> IssuedKey:
        owner_id = principal.user_id if for_user is None else for_user
        if owner_id != principal.user_id and not principal.is_admin:
            raise Forbidden("only an administrator may create keys for another user")
        return await self.issue(owner_id, options)

    async def issue(self, user_id: int, options: KeyOptions) -> IssuedKey:
        """Trusted callers only (CLI, create): no principal check here."""
        if options.expires_days is not None and options.expires_days <= 0:
            raise InvalidInput("expires_days must be a positive number of days", param="expires_days")
        if options.token_quota is not None and options.token_quota <= 0:
            raise InvalidInput("token_quota must be a positive number of tokens", param="token_quota")
        now = self._clock.now()
        async with self._uow() as tx:
            owner = await tx.users.get(user_id)
            if owner is None:
                raise NotFound("no such user")
            if Scope.ADMIN in options.scopes and owner.role is not Role.ADMIN:
                raise InvalidInput("the admin scope needs an administrator account", param="scopes")
            secret = API_KEY_PREFIX + new_secret(32)
            key = ApiKey(
                id=new_id("key"), user_id=user_id, name=options.name[:100], prefix=secret[:10],
                key_hash=hash_api_key(secret), scopes=options.scopes, created_at=now,
                expires_at=now + timedelta(days=options.expires_days) if options.expires_days else None,
                allowed_models=options.allowed_models, rpm_limit=options.rpm_limit, tpm_limit=options.tpm_limit,
                token_quota=options.token_quota,
            )
            await tx.keys.add(key)
        return IssuedKey(key, secret)

    async def list(self, principal: Principal) -> list[ApiKey]:
        async with self._uow() as tx:
            return await tx.keys.list_for_user(principal.user_id)

    async def change(self, principal: Principal, key_id: str, change: KeyChange) -> ApiKey:
        """The owner (or an administrator) renames a key or changes its limits, e.g. raises the token
        quota of a key that ran out, so its clients go on without a new secret."""
        if change.given - _EDITABLE:
            raise InvalidInput(f"these cannot be changed: {', '.join(sorted(change.given - _EDITABLE))}")
        for limit in ("rpm_limit", "tpm_limit", "token_quota"):
            value = getattr(change, limit)
            if limit in change.given and value is not None and value <= 0:
                raise InvalidInput(f"{limit} must be positive (null removes it)", param=limit)
        async with self._uow() as tx:
            key = await tx.keys.get(key_id)
            if key is None or (key.user_id != principal.user_id and not principal.is_admin):
                raise NotFound("no such API key")
            for field in change.given:
                setattr(key, field, getattr(change, field))
            await tx.keys.update(key)  # never writes tokens_used: calls settling now still count
        self._cache.forget(key_id=key_id)
        return key

    async def revoke(self, principal: Principal, key_id: str) -> ApiKey:
        async with self._uow() as tx:
            key = await tx.keys.get(key_id)
            if key is None or (key.user_id != principal.user_id and not principal.is_admin):
                raise NotFound("no such API key")
            if key.revoked_at is None:
                key.revoked_at = self._clock.now()
                await tx.keys.update(key)
        self._cache.forget(key_id=key_id)
        return key
