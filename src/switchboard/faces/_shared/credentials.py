"""Reading credentials off requests, and the one check of the scope a route declares.

Every route of every face (and every socket) names what it needs: a Scope, or SIGNED_IN for the
few account routes any valid credential may use (who am I, log out, my usage). `check_scope` is
the only place that compares it with the principal's scopes; each face's auth.py decides where it
looks for the credential and calls it, so a face cannot forget the check by forgetting a branch.
"""

from __future__ import annotations

from typing import Final

from switchboard.core.domain.errors import Forbidden, Unauthenticated
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.accounts.auth import AccountService

Needs = Scope | None
SIGNED_IN: Final[Needs] = None  # any valid credential, whatever its scopes


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() not in ("bearer", "apikey") or not value.strip():
        return None
    return value.strip()


def check_scope(principal: Principal, needs: Needs, refusal: str | None = None) -> Principal:
    """The principal, when it carries the scope the route needs; Forbidden otherwise (`refusal`
    is a face's own wording, e.g. AstrBot's "Insufficient API key scope")."""
    if needs is None or principal.has(needs):
        return principal
    if refusal is not None:
        raise Forbidden(refusal)
    if needs is Scope.ADMIN and principal.role is not Role.ADMIN:
        raise Forbidden("administrator access required")
    holder = "API key" if principal.via == "api_key" else "credential"
    raise Forbidden(f"this {holder} lacks the '{needs.value}' scope")


async def require_principal(
    accounts: AccountService, token: str | None, needs: Needs, refusal: str | None = None
) -> Principal:
    if not token:
        raise Unauthenticated("missing credentials: send 'Authorization: Bearer <token or API key>'")
    return check_scope(await accounts.principal_from_token(token), needs, refusal)
