"""The account services on their own: what the app builds first and all the command line needs.

    wiring = build_account_services(settings)   # no I/O; no providers, tools or faces imported
    await upgrade_database(settings.resolved_database_url)
    await wiring.load_signing_secret()          # when it lives in the database
    await wiring.accounts.create_user("alice", "correct horse")

Kept apart from the composition root so that `switchboard users …` starts in a fraction of the
time the whole app takes to import (MCP, aiohttp, redis and the faces are never loaded)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from switchboard.adapters.security.clock import SystemClock
from switchboard.adapters.security.jwt_tokens import JwtTokenIssuer
from switchboard.adapters.security.passwords import Argon2PasswordHasher
from switchboard.adapters.storage.engine import async_url
from switchboard.adapters.storage.secrets import shared_secret
from switchboard.adapters.storage.uow import SqlUnitOfWork
from switchboard.config.settings import Settings
from switchboard.core.services.accounts.auth import AccountPolicy, AccountService
from switchboard.core.services.accounts.keys import KeyService
from switchboard.core.services.accounts.principal_cache import PrincipalCache
from switchboard.core.services.admin.users import AdminService


@dataclass(frozen=True, slots=True)
class AccountServices:
    uow: SqlUnitOfWork
    clock: SystemClock
    principals: PrincipalCache
    accounts: AccountService
    keys: KeyService
    admin: AdminService
    issuer: JwtTokenIssuer
    database_url: str

    async def load_signing_secret(self) -> None:
        """With neither `secret_key` nor SQLite, the secret is the database's: the first host to
        start makes it, every other host reads the same one. Needs the migrated schema."""
        if not self.issuer.has_secret:
            self.issuer.use_secret(await shared_secret(self.database_url, SIGNING_SECRET_NAME, new_secret()))


def build_account_services(settings: Settings) -> AccountServices:
    clock = SystemClock()
    uow = SqlUnitOfWork(settings.resolved_database_url)
    issuer = JwtTokenIssuer(configured_secret(settings), timedelta(minutes=settings.jwt_ttl_minutes))
    policy = AccountPolicy(settings.registration == "open", settings.default_token_allowance)
    hasher = Argon2PasswordHasher(
        settings.passwords.time_cost, settings.passwords.memory_cost_kib, settings.passwords.parallelism
    )
    principals = PrincipalCache(settings.auth_cache_seconds)
    accounts = AccountService(uow, hasher, issuer, clock, policy, principals)
    return AccountServices(
        uow=uow, clock=clock, principals=principals, accounts=accounts,
        keys=KeyService(uow, clock, principals), admin=AdminService(uow, accounts, principals),
        issuer=issuer, database_url=settings.resolved_database_url,
    )


SIGNING_SECRET_NAME = "jwt_signing"


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def configured_secret(settings: Settings) -> str | None:
    """The signing secret known without the database: the configured one, or (SQLite: one host)
    the data directory's. None: it is the database's (AccountServices.load_signing_secret)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if async_url(settings.resolved_database_url).get_backend_name() == "sqlite":
        return signing_secret(settings.data_dir)
    return None


def signing_secret(data_dir: Path) -> str:
    """Generated at first start and kept in the data directory, so tokens survive restarts."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(new_secret())
        path.chmod(0o600)
    return path.read_text().strip()
