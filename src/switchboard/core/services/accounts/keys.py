"""API keys: random, shown once, stored hashed, scoped, optionally expiring, revocable.

Who manages them (the route already asked for the `keys` scope, which every login has):
- a login session (JWT): any key of its user, any limits, as an administrator anyone's keys (and
  the list of everyone's);
- an API key with the `keys` scope, never broader than itself, so a leaked or delegated key cannot
  outgrow what it was given: the keys it makes have only scopes and models it has, expire no later,
  have rpm/tpm limits no higher, and their token quota is carved out of its own unspent quota (it
  counts as used by the maker, so the keys it makes and it together never spend more than it
  could: otherwise each new key would bring a fresh quota); it renames keys but never changes
  limits (an administrator's key may, of other keys); it revokes itself and keys whose scopes it
  has itself;
- anything else (a platform's user, a shared code, the guest): nothing.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.core.domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from switchboard.core.domain.ids import new_id, new_secret
from switchboard.core.domain.users import ApiKey, Principal, Role, Scope
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.accounts.auth import API_KEY_PREFIX, hash_api_key
from switchboard.core.services.accounts.guards import require_admin
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


_LIMITS = frozenset({"allowed_models", "rpm_limit", "tpm_limit", "token_quota"})
_EDITABLE = _LIMITS | {"name"}
NEEDS_LOGIN = "key management needs a login session or an API key with the 'keys' scope"


class KeyService:
    def __init__(self, uow: UnitOfWork, clock: Clock, cache: PrincipalCache | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._cache = cache or PrincipalCache(ttl=0)

    async def create(self, principal: Principal, options: KeyOptions, *, for_user: int | None = None) -> IssuedKey:
        owner_id = principal.user_id if for_user is None else for_user
        if owner_id != principal.user_id and not principal.is_admin:
            raise Forbidden("only an administrator may create keys for another user")
        issued = await self.issue(owner_id, options, maker=None if _manager(principal) else principal)
        if principal.key_id is not None:
            self._cache.forget(key_id=principal.key_id)  # its quota may have shrunk
        return issued

    async def issue(self, user_id: int, options: KeyOptions, *, maker: Principal | None = None) -> IssuedKey:
        """Trusted callers (CLI, create); `maker`: the API key asking, which bounds the new key."""
        if options.expires_days is not None and options.expires_days <= 0:
            raise InvalidInput("expires_days must be a positive number of days", param="expires_days")
        if options.token_quota is not None and options.token_quota <= 0:
            raise InvalidInput("token_quota must be a positive number of tokens", param="token_quota")
        now = self._clock.now()
        expires_at = now + timedelta(days=options.expires_days) if options.expires_days else None
        async with self._uow() as tx:
            if maker is not None:
                await _within_maker(tx, maker, options, expires_at)
            owner = await tx.users.get(user_id)
            if owner is None:
                raise NotFound("no such user")
            if Scope.ADMIN in options.scopes and owner.role is not Role.ADMIN:
                raise InvalidInput("the admin scope needs an administrator account", param="scopes")
            secret = API_KEY_PREFIX + new_secret(32)
            key = ApiKey(
                id=new_id("key"), user_id=user_id, name=options.name[:100], prefix=secret[:10],
                key_hash=hash_api_key(secret), scopes=options.scopes, created_at=now,
                expires_at=expires_at,
                allowed_models=options.allowed_models, rpm_limit=options.rpm_limit, tpm_limit=options.tpm_limit,
                token_quota=options.token_quota,
            )
            await tx.keys.add(key)
        return IssuedKey(key, secret)

    async def list(self, principal: Principal) -> list[ApiKey]:
        _manager(principal)
        async with self._uow() as tx:
            return await tx.keys.list_for_user(principal.user_id)

    async def list_everyone(
        self, principal: Principal, user_id: int | None = None
    ) -> builtins.list[tuple[ApiKey, str]]:
        """Every user's keys (or one user's), each with its owner's username: administrators only."""
        require_admin(principal)
        async with self._uow.read() as tx:
            return await tx.keys.list_with_owners(user_id)

    async def change(self, principal: Principal, key_id: str, change: KeyChange) -> ApiKey:
        """The owner (or an administrator) renames a key or changes its limits, e.g. raises the token
        quota of a key that ran out, so its clients go on without a new secret. With an API key:
        names only, except an administrator's key on another key (see the module's rules)."""
        login = _manager(principal)
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
            if not login and change.given & _LIMITS:
                _refuse_limits(principal, key)
            for field in change.given:
                setattr(key, field, getattr(change, field))
            await tx.keys.update(key)  # never writes tokens_used: calls settling now still count
        self._cache.forget(key_id=key_id)
        return key

    async def revoke(self, principal: Principal, key_id: str) -> ApiKey:
        login = _manager(principal)
        async with self._uow() as tx:
            key = await tx.keys.get(key_id)
            if key is None or (key.user_id != principal.user_id and not principal.is_admin):
                raise NotFound("no such API key")
            if not (login or principal.is_admin or key.id == principal.key_id or key.scopes <= principal.scopes):
                raise Forbidden("an API key may only revoke itself and keys whose scopes it has itself")
            if key.revoked_at is None:
                key.revoked_at = self._clock.now()
                await tx.keys.update(key)
        self._cache.forget(key_id=key_id)
        return key


def _manager(principal: Principal) -> bool:
    """True for a login session; False for an API key (bounded by itself); Forbidden otherwise."""
    if principal.is_login:
        return True
    if principal.via != "api_key" or principal.key_id is None:
        raise Forbidden(NEEDS_LOGIN)
    return False


def _refuse_limits(principal: Principal, key: ApiKey) -> None:
    if key.id == principal.key_id:
        raise Forbidden("a key cannot change its own limits; change them from a login session")
    if not principal.is_admin:
        raise Forbidden("an API key cannot change keys' limits; change them from a login session")


async def _within_maker(tx: Tx, maker: Principal, options: KeyOptions, expires_at: datetime | None) -> None:
    """Refuses a key broader than the API key making it; carves the new key's token quota out of
    the maker's, in the transaction that adds the new key (a refusal later rolls it back). The
    maker's limits are read here, not from the cached principal: they may have just changed."""
    own = await tx.keys.get(maker.key_id or "")
    if own is None or own.revoked_at is not None:
        raise Unauthenticated("this API key was revoked")
    wider = options.scopes - maker.scopes
    if wider:
        raise Forbidden(f"a key can only make keys with scopes it has; this one lacks {', '.join(sorted(wider))}",
                        param="scopes")
    if own.allowed_models and not (options.allowed_models and set(options.allowed_models) <= set(own.allowed_models)):
        raise Forbidden(f"allowed_models must be some of this key's own: {', '.join(own.allowed_models)}",
                        param="allowed_models")
    if own.expires_at is not None and (expires_at is None or expires_at > own.expires_at):
        raise Forbidden(f"the new key must expire no later than this one ({own.expires_at.isoformat()})",
                        param="expires_days")
    for name in ("rpm_limit", "tpm_limit"):
        limit, asked = getattr(own, name), getattr(options, name)
        if limit is not None and (asked is None or asked > limit):
            raise Forbidden(f"{name} must be at most this key's own, {limit}", param=name)
    if own.token_quota is not None and (
        options.token_quota is None or not await tx.keys.take_quota(own.id, options.token_quota)
    ):
        raise Forbidden(f"token_quota must be at most this key's {own.tokens_left} unspent tokens, which "
                        "it gives to the new key", param="token_quota")
