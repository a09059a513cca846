"""Accounts: registration, password login and logout, and turning credentials into a Principal."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.core.domain.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from switchboard.core.domain.users import Principal, Role, Scope, User, scopes_for_role
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import AccessToken, Clock, PasswordHasher, TokenIssuer
from switchboard.core.services.accounts.principal_cache import PrincipalCache
from switchboard.core.services.accounts.throttle import LoginThrottle

USERNAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
API_KEY_PREFIX = "sb-"
LAST_USED_PRECISION = timedelta(seconds=60)
# in User.settings: the moment (epoch seconds) before which the user's access tokens are refused; kept
# there rather than in a column of its own so a password reset needs no schema migration
SESSIONS_SINCE = "sessions_since"


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    registration_open: bool = True
    default_token_allowance: int = 0  # 0 = unlimited
    min_password_length: int = 8


def hash_api_key(raw: str) -> str:
    # API keys carry 256 random bits, so a fast hash is enough (unlike passwords)
    return hashlib.sha256(raw.encode()).hexdigest()


def principal_for(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, scopes_for_role(user.role), via="jwt")


class AccountService:
    def __init__(
        self, uow: UnitOfWork, hasher: PasswordHasher, tokens: TokenIssuer, clock: Clock, policy: AccountPolicy,
        cache: PrincipalCache | None = None, throttle: LoginThrottle | None = None,
    ) -> None:
        self._uow = uow
        self.throttle = throttle  # None: logins are not limited (tests of other things)
        self._cache = cache or PrincipalCache(ttl=0)
        self._lookups: dict[str, asyncio.Future[Principal]] = {}
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self.policy = policy

    async def register(self, username: str, password: str, email: str | None = None, *,
                       client: str | None = None) -> User:
        """A taken name counts against the client's address as a failed login does, so registration
        is no free oracle of who has an account (the e-mail is never checked against others)."""
        if not self.policy.registration_open:
            raise Forbidden("registration is closed; ask an administrator for an account")
        if self.throttle is not None:
            await self.throttle.attempt(None, client)
        user = await self.create_user(username, password, email=email)
        if self.throttle is not None:
            await self.throttle.succeeded(None, client)
        return user

    async def create_user(
        self, username: str, password: str | None, *, email: str | None = None, role: Role = Role.USER
    ) -> User:
        """Also used by the CLI and the first-start admin. Password None: a platform-only user."""
        username = username.strip()
        if not USERNAME.match(username):
            raise InvalidInput("username must be 2-64 letters, digits, '_', '-' or '.'", param="username")
        if email is not None and not EMAIL.match(email):
            raise InvalidInput("email is not a valid address", param="email")
        password_hash = None if password is None else await self.password_hash(password)
        allowance = self.policy.default_token_allowance
        async with self._uow() as tx:
            if await tx.users.by_username(username):
                raise Conflict(f"username '{username}' is taken")
            user = await tx.users.add(username, email, password_hash, role)
            await tx.quotas.ensure(user.id, allowance, unlimited=allowance == 0)
        return user

    async def password_hash(self, password: str) -> str:
        """The hash to store for a new password, once it passes the rules registration applies."""
        if len(password) < self.policy.min_password_length:
            raise InvalidInput(
                f"password must have at least {self.policy.min_password_length} characters", param="password"
            )
        return await self._hasher.hash(password)

    def end_sessions(self, user: User) -> None:
        """Marks every access token issued to `user` before now as no longer valid (a password
        reset); the caller saves the user and forgets the user's cached principals."""
        user.settings = {**user.settings, SESSIONS_SINCE: self._clock.now().timestamp()}

    async def login(self, username: str, password: str, *, client: str | None = None) -> tuple[AccessToken, User]:
        """`client`: the caller's address, for the throttle of failed logins."""
        if self.throttle is not None:
            await self.throttle.attempt(username, client)
        async with self._uow() as tx:
            user = await tx.users.by_username(username.strip())
        # verify even when the user is absent, so timing does not reveal which usernames exist
        stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
        valid = await self._hasher.verify(stored, password)
        if not user or not user.password_hash or not valid:
            raise Unauthenticated("wrong username or password")
        if not user.is_active:
            raise Forbidden("this account is deactivated")
        if self.throttle is not None:
            await self.throttle.succeeded(username, client)
        return self._tokens.issue(user.id), user

    async def logout(self, principal: Principal) -> None:
        if principal.token_id is None:
            return
        token_expiry = self._clock.now()
        async with self._uow() as tx:
            await tx.revoked.revoke(principal.token_id, _far_enough(token_expiry))
        self._cache.forget(token_id=principal.token_id)

    async def principal_from_token(self, token: str) -> Principal:
        """A bearer credential: a JWT access token, or an API key (`sb-...`). Cached; concurrent
        requests with the same credential share one lookup (a busy key whose cache entry just
        expired would otherwise send every request in flight to the database at once)."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        lookup = self._lookups.get(token)
        if lookup is None:
            lookup = self._lookups[token] = asyncio.ensure_future(self._resolve(token))
            lookup.add_done_callback(lambda done: self._lookup_done(token, done))
        return await asyncio.shield(lookup)  # a waiter that gives up leaves the lookup to the others

    def _lookup_done(self, token: str, lookup: asyncio.Future[Principal]) -> None:
        self._lookups.pop(token, None)
        if not lookup.cancelled():
            lookup.exception()  # retrieved here too, in case every waiter gave up before it failed

    async def _resolve(self, token: str) -> Principal:
        principal = await (
            self.principal_from_api_key(token) if token.startswith(API_KEY_PREFIX) else self._principal_from_jwt(token)
        )
        self._cache.put(token, principal)
        return principal

    async def _principal_from_jwt(self, token: str) -> Principal:
        access = self._tokens.read(token)
        async with self._uow.read() as tx:
            if await tx.revoked.is_revoked(access.token_id):
                raise Unauthenticated("this token was revoked (logged out)")
            user = await _active_user(tx, access.user_id)
            quota = await tx.quotas.get(user.id)
        if _issued_before_sessions_ended(access, user):
            raise Unauthenticated("this token was issued before the password was changed; log in again")
        return Principal(
            user.id, user.username, user.role, scopes_for_role(user.role), via="jwt", token_id=access.token_id,
            unlimited=quota.unlimited,
        )

    async def principal_from_api_key(self, raw: str) -> Principal:
        now = self._clock.now()
        async with self._uow.read() as tx:
            key = await tx.keys.by_hash(hash_api_key(raw.strip()))
            if key is None:
                raise Unauthenticated("invalid API key")
            if key.revoked_at is not None:
                raise Unauthenticated("this API key was revoked")
            if key.expires_at is not None and key.expires_at <= now:
                raise Unauthenticated("this API key has expired")
            user = await _active_user(tx, key.user_id)
            quota = await tx.quotas.get(user.id)
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
            # a write per request would serialise every call on the write lock; a minute is precise enough
            async with self._uow() as tx:
                await tx.keys.touch(key.id, now)
        scopes = key.scopes if user.role is Role.ADMIN else key.scopes - {Scope.ADMIN}
        return Principal(
            user.id, user.username, user.role, frozenset(scopes), via="api_key", key_id=key.id,
            allowed_models=key.allowed_models, rpm_limit=key.rpm_limit, tpm_limit=key.tpm_limit,
            unlimited=quota.unlimited, key_tokens_left=key.tokens_left,
        )

    async def me(self, principal: Principal) -> User:
        async with self._uow.read() as tx:
            return await _active_user(tx, principal.user_id)


async def _active_user(tx: Tx, user_id: int) -> User:
    user = await tx.users.get(user_id)
    if user is None:
        raise Unauthenticated("the account behind this credential no longer exists")
    if not user.is_active:
        raise Forbidden("this account is deactivated")
    return user


def _issued_before_sessions_ended(access: AccessToken, user: User) -> bool:
    since = user.settings.get(SESSIONS_SINCE)
    if not isinstance(since, int | float):
        return False
    return access.issued_at is None or access.issued_at.timestamp() < since


def _far_enough(now: datetime) -> datetime:
    # revocations are kept a little longer than any token can live
    return now + timedelta(days=31)


# argon2id hash of a random throw-away password, used only to spend equal time on unknown users
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
