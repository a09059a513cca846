"""MuseBot has no credentials of its own; Switchboard wants an API key (or access token), read from
`Authorization: Basic …` (a Go client carries `http://musebot:KEY@host` as Basic auth: the key is the
password, or the user name when the password is empty, as `http://KEY@host` gives), `Authorization:
Bearer …`, `X-API-Key: …` or `?api_key=…` (for web pages that cannot set headers).

MuseBot's admin console sends no credentials at all. A `TrustedCaller` (config `musebot.trusted_key`,
off by default) lets a call that carries none act as one configured key, from listed addresses only.

Scopes: /communicate, /user/list, /user/update/mode and /record/list need `chat` (a key acts for
its own MuseBot users; acting for anyone's needs an administrator's `admin` key, checked by the
services); /user/token/add, /conf/*, /command/get and /mcp/* are the administrator's: `admin`.
The credential is read as a dependency, so a refused key is refused before its body is read."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable

from fastapi import Request

from switchboard.core.domain.errors import Unauthenticated
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.accounts.auth import AccountService
from switchboard.faces._shared.credentials import bearer_token, require_principal
from switchboard.faces._shared.trusted import TrustedCaller

MISSING = ("missing credentials: put the API key in the bot's address (http://musebot:KEY@host), "
           "or send 'Authorization: Bearer <API key>'")


def basic_credentials(authorization: str | None) -> tuple[str, str]:
    """(user, password) of `Authorization: Basic base64(user:password)`; ("", "") for other schemes."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("malformed Basic credentials: expected base64 of 'user:API key'") from None
    return user, password


def basic_key(authorization: str | None) -> str | None:
    """The key of `http://user:KEY@host` (the password), or of `http://KEY@host` (the user name)."""
    user, password = basic_credentials(authorization)
    return (password or user).strip() or None


def principal_dependency(accounts: AccountService, needs: Scope, trusted: TrustedCaller | None = None
                         ) -> Callable[[Request], Awaitable[Principal]]:
    async def caller(request: Request) -> Principal:
        authorization = request.headers.get("authorization")
        token = (
            bearer_token(authorization) or basic_key(authorization)
            or request.headers.get("x-api-key") or request.query_params.get("api_key")
        )
        token = token.strip() if token else None
        if token:
            return await require_principal(accounts, token, needs)
        sent_nothing = authorization is None and "x-api-key" not in request.headers
        if sent_nothing and trusted is not None and trusted.admits(request.client.host if request.client else None):
            return await require_principal(accounts, trusted.key, needs)
        raise Unauthenticated(MISSING)

    return caller
