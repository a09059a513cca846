"""Reading credentials off requests; each face's auth.py decides which places it looks in."""

from __future__ import annotations

from switchboard.core.domain.errors import Forbidden, Unauthenticated
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.accounts.auth import AccountService


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() not in ("bearer", "apikey") or not value.strip():
        return None
    return value.strip()


async def require_principal(accounts: AccountService, token: str | None, scope: Scope | None = None) -> Principal:
    if not token:
        raise Unauthenticated("missing credentials: send 'Authorization: Bearer <token or API key>'")
    principal = await accounts.principal_from_token(token)
    if scope is not None and not principal.has(scope):
        raise Forbidden(f"this credential lacks the '{scope.value}' scope")
    return principal
