"""Time, token estimates, password hashing and access tokens: small ports so the core stays pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""
        ...


class TokenCounter(Protocol):
    def count_text(self, text: str) -> int: ...
    def count_messages(self, messages: list[dict[str, Any]]) -> int: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    token_id: str
    user_id: int
    expires_at: datetime
    issued_at: datetime | None = None  # None: not known (a token from before it was recorded)


class TokenIssuer(Protocol):
    def issue(self, user_id: int) -> AccessToken: ...

    def read(self, token: str) -> AccessToken:
        """Raises Unauthenticated when the token is malformed, forged or expired."""
        ...


class AttemptCounter(Protocol):
    """Counts attempts (at a password, a code ...) per key in a window that opens with the first
    one and then expires, so a limit built on it never locks anybody out for longer than a window."""

    async def add(self, key: str, amount: int, window_seconds: float) -> tuple[int, float]:
        """Adds `amount` (negative to take back) and returns (the count in the key's window, seconds
        until that window ends); the first attempt opens a window of `window_seconds`."""
        ...

    async def clear(self, key: str) -> None: ...

    async def close(self) -> None: ...
