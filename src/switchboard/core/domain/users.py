"""Users, their credentials and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Scope(StrEnum):
    CHAT = "chat"
    FILE = "file"
    CONFIG = "config"
    IM = "im"
    ADMIN = "admin"
    KEYS = "keys"  # manage API keys (list, create, edit, revoke): a login session has it too


ALL_SCOPES = frozenset(Scope)


@dataclass(slots=True)
class User:
    id: int
    username: str
    email: str | None
    role: Role
    is_active: bool
    created_at: datetime
    password_hash: str | None = None
    # per-user settings: model, allowed tools ... (kept small and schemaless on purpose)
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(slots=True)
class ApiKey:
    id: str
    user_id: int
    name: str
    prefix: str  # the first characters, shown in lists so people can tell keys apart
    key_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    # One API-style per-key options: allowed models, rate limits, and a token quota of the key's
    # own (None: only the user's allowance applies); tokens_used counts every call made with it
    allowed_models: tuple[str, ...] = ()
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    token_quota: int | None = None
    tokens_used: int = 0
    tokens_reserved: int = 0  # held by calls in flight (a metered key), as a user's `reserved`

    @property
    def tokens_left(self) -> int | None:
        if self.token_quota is None:
            return None
        return max(self.token_quota - self.tokens_used - self.tokens_reserved, 0)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as, however it authenticated."""

    user_id: int
    username: str
    role: Role
    scopes: frozenset[Scope]
    via: str  # "jwt" | "api_key" | "platform"
    key_id: str | None = None
    token_id: str | None = None
    # an API key's own limits (the gateway's One API-style key options)
    allowed_models: tuple[str, ...] = ()
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    # the user's allowance has no limit (as read when the credential was resolved): the gateway
    # then meters calls without reserving tokens first
    unlimited: bool = False
    # what is left of the API key's own token quota when the credential was resolved (None: none)
    key_tokens_left: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN and Scope.ADMIN in self.scopes

    @property
    def is_login(self) -> bool:
        """A password login (JWT), not a key: it may manage keys without a key's bounds."""
        return self.via == "jwt"

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes


def scopes_for_role(role: Role) -> frozenset[Scope]:
    """A password login carries every scope its role allows."""
    return ALL_SCOPES if role is Role.ADMIN else ALL_SCOPES - {Scope.ADMIN}
