"""Administration of users: list, create, activate/deactivate, role, token allowance, password
reset. Admin principals only."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.core.domain.errors import Conflict, InvalidInput, NotFound
from switchboard.core.domain.quotas import Quota
from switchboard.core.domain.users import Principal, Role, User
from switchboard.core.ports.storage import QuotaRepo, UnitOfWork
from switchboard.core.services.accounts.auth import AccountService
from switchboard.core.services.accounts.guards import require_admin
from switchboard.core.services.accounts.principal_cache import PrincipalCache


@dataclass(frozen=True, slots=True)
class UserChange:
    is_active: bool | None = None
    role: Role | None = None
    token_allowance: int | None = None  # absolute; with unlimited False
    unlimited: bool | None = None
    add_tokens: int | None = None
    release_reserved: bool = False  # drop tokens held by calls that will never settle (a crash)
    set_tools: bool = False  # with `tools`: replace the user's tool allow-list
    tools: tuple[str, ...] | None = None  # tool names or categories; None = every tool the admin allows
    password: str | None = None  # a new password: the user's login sessions end (API keys stay)


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    password: str
    email: str | None = None
    role: Role = Role.USER
    token_allowance: int | None = None  # None: the default allowance a registration gets
    unlimited: bool | None = None


class AdminService:
    def __init__(self, uow: UnitOfWork, accounts: AccountService, cache: PrincipalCache | None = None) -> None:
        self._uow = uow
        self._accounts = accounts  # the account rules (names, passwords) and how sessions end
        self._cache = cache or PrincipalCache(ttl=0)

    async def create_user(self, principal: Principal, new: NewUser) -> tuple[User, Quota]:
        """An account made by an administrator: the same rules as registration, which may be closed."""
        require_admin(principal)
        _check_allowance(new.token_allowance)
        user = await self._accounts.create_user(new.username, new.password, email=new.email, role=new.role)
        async with self._uow() as tx:
            await _apply_allowance(tx.quotas, user.id, UserChange(token_allowance=new.token_allowance,
                                                                  unlimited=new.unlimited))
            return user, await tx.quotas.get(user.id)

    async def list_users(
        self, principal: Principal, page: int, page_size: int, query: str | None = None
    ) -> tuple[list[tuple[User, Quota]], int]:
        require_admin(principal)
        async with self._uow() as tx:
            users, total = await tx.users.list(page, page_size, query)
            return [(u, await tx.quotas.get(u.id)) for u in users], total

    async def get_user(self, principal: Principal, user_id: int) -> tuple[User, Quota]:
        require_admin(principal)
        async with self._uow() as tx:
            user = await tx.users.get(user_id)
            if user is None:
                raise NotFound("no such user")
            return user, await tx.quotas.get(user_id)

    async def change_user(self, principal: Principal, user_id: int, change: UserChange) -> tuple[User, Quota]:
        require_admin(principal)
        _check_allowance(change.token_allowance)
        # hashed before the transaction: argon2 takes a while and must not hold the write lock
        password_hash = None if change.password is None else await self._accounts.password_hash(change.password)
        async with self._uow() as tx:
            user = await tx.users.get(user_id)
            if user is None:
                raise NotFound("no such user")
            demoting = change.role is Role.USER or change.is_active is False
            if user.id == principal.user_id and demoting:
                raise Conflict("administrators cannot demote or deactivate themselves")
            if change.is_active is not None:
                user.is_active = change.is_active
            if change.role is not None:
                user.role = change.role
            if change.set_tools:
                user.settings = _with_tools(user.settings, change.tools)
            if password_hash is not None:
                user.password_hash = password_hash
                self._accounts.end_sessions(user)
            await tx.users.update(user)
            await _apply_allowance(tx.quotas, user_id, change)
            quota = await tx.quotas.get(user_id)
        self._cache.forget(user_id=user_id)  # a deactivation, demotion or reset takes effect at once
        return user, quota

    async def release_reserved(self, user_id: int | None) -> int:
        """Trusted callers (CLI). Tokens a crashed worker held (its calls in flight, its quota
        lease) stay reserved in the database: this frees one user's, or everyone's. A live worker's
        lease is freed too and then spends unbacked until it is given back (at most its free part,
        about 1.5 lease blocks): run it when the crashed worker's calls were the only ones."""
        async with self._uow() as tx:
            if user_id is not None and await tx.users.get(user_id) is None:
                raise NotFound("no such user")
            return await tx.quotas.release_reserved(user_id)

    async def add_tokens(self, user_id: int, tokens: int) -> Quota:
        """Trusted callers (CLI, admin faces after their own check)."""
        async with self._uow() as tx:
            if await tx.users.get(user_id) is None:
                raise NotFound("no such user")
            await tx.quotas.add_allowance(user_id, tokens)
            return await tx.quotas.get(user_id)


def _check_allowance(token_allowance: int | None) -> None:
    if token_allowance is not None and token_allowance < 0:
        raise InvalidInput("token_allowance cannot be negative", param="token_allowance")


async def _apply_allowance(repo: QuotaRepo, user_id: int, change: UserChange) -> None:
    current = await repo.get(user_id)
    if change.token_allowance is not None or change.unlimited is not None:
        allowance = current.allowance if change.token_allowance is None else change.token_allowance
        unlimited = change.unlimited if change.unlimited is not None else (
            False if change.token_allowance is not None else current.unlimited
        )
        await repo.set_allowance(user_id, allowance, unlimited)
    if change.add_tokens:
        await repo.add_allowance(user_id, change.add_tokens)
    if change.release_reserved:
        await repo.release_reserved(user_id)


def _with_tools(settings: dict[str, object], tools: tuple[str, ...] | None) -> dict[str, object]:
    rest = {k: v for k, v in settings.items() if k != "tools"}
    return rest if tools is None else {**rest, "tools": list(dict.fromkeys(tools))}
