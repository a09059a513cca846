"""MuseBot has no credentials of its own; Switchboard wants an API key (or access token), read from
`Authorization: Bearer …`, `X-API-Key: …` or `?api_key=…` (for web pages that cannot set headers).

Scopes: /communicate, /user/list, /user/update/mode and /record/list need `chat` (a key acts for
its own MuseBot users; acting for anyone's needs an administrator's `admin` key, checked by the
services); /user/token/add, /conf/*, /command/get and /mcp/* are the administrator's: `admin`.
The credential is read as a dependency, so a refused key is refused before its body is read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.accounts.auth import AccountService
from switchboard.faces._shared.credentials import bearer_token, require_principal


def principal_dependency(accounts: AccountService, needs: Scope) -> Callable[[Request], Awaitable[Principal]]:
    async def caller(request: Request) -> Principal:
        token = (
            bearer_token(request.headers.get("authorization"))
            or request.headers.get("x-api-key")
            or request.query_params.get("api_key")
        )
        return await require_principal(accounts, token.strip() if token else None, needs)

    return caller
