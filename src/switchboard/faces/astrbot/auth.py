"""AstrBot's API key: `Authorization: ApiKey <k>`, `?api_key=`, `?key=`, `X-API-Key`, or
`Authorization: Bearer <k>` (which may also carry a Switchboard access token).

Missing key: 401 "Missing API key"; unknown, revoked or expired key: 401 "Invalid API key";
a key without the route's scope: 403 "Insufficient API key scope". Scopes: chat (the SSE and
WebSocket chat, sessions), config (configs), file (file), im (im/bots, im/message)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import Request

from switchboard.core.domain.errors import Unauthenticated
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.accounts.auth import AccountService
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.credentials import check_scope

MISSING = "Missing API key"
INVALID = "Invalid API key"
INSUFFICIENT = "Insufficient API key scope"


def extract_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key from wherever an AstrBot client put it, in AstrBot's order of preference."""
    scheme, _, value = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "apikey" and value.strip():
        return value.strip()
    for name in ("api_key", "key"):
        if query.get(name, "").strip():
            return query[name].strip()
    if headers.get("x-api-key", "").strip():
        return headers["x-api-key"].strip()
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def authenticate(accounts: AccountService, raw_key: str | None, scope: Scope) -> Principal:
    if not raw_key:
        raise Unauthenticated(MISSING)
    try:
        principal = await accounts.principal_from_token(raw_key)
    except Unauthenticated as exc:
        raise Unauthenticated(INVALID) from exc
    return check_scope(principal, scope, INSUFFICIENT)


def scoped(services: Services, scope: Scope) -> Callable[[Request], Awaitable[Principal]]:
    async def current_principal(request: Request) -> Principal:
        return await authenticate(services.accounts, extract_key(request.headers, request.query_params), scope)

    return current_principal
