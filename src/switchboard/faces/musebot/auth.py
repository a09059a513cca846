"""MuseBot has no credentials of its own; Switchboard wants an API key (or access token), read from
`Authorization: Bearer …`, `X-API-Key: …` or `?api_key=…` (for web pages that cannot set headers)."""

from __future__ import annotations

from fastapi import Request

from switchboard.core.domain.users import Principal
from switchboard.core.services.accounts.auth import AccountService
from switchboard.faces._shared.credentials import bearer_token, require_principal


async def caller(accounts: AccountService, request: Request) -> Principal:
    token = (
        bearer_token(request.headers.get("authorization"))
        or request.headers.get("x-api-key")
        or request.query_params.get("api_key")
    )
    return await require_principal(accounts, token.strip() if token else None)
