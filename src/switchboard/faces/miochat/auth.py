"""Who a Mio-Chat client is: `mio-chat-id` (the client's own id) and `mio-chat-token`.

The token is a Switchboard API key (or access token), or, when the operator configured them, one
of Mio-Chat's shared codes: the user code logs in as the `code_user` account (made on first use,
chat and file scopes), the admin code as the `admin_user` administrator. A client logging in with
its own key gets its `mio-chat-id` linked to that account (platform "miochat"). Every route and
socket of this face is a chat client's: the credential needs the `chat` scope (NEEDS).

The web app's own fetches (share, upload) send no credentials at all: with `miochat.trusted_key`
set (off by default), an HTTP call that carries none acts as that key, from the configured client
addresses only (a TrustedCaller); otherwise it is refused (401)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.core.domain.errors import Conflict, Forbidden, Unauthenticated
from switchboard.core.domain.users import Principal, Role, Scope, User, scopes_for_role
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.credentials import bearer_token, check_scope
from switchboard.faces._shared.trusted import TrustedCaller

PLATFORM = "miochat"
ID_HEADER = "mio-chat-id"
TOKEN_HEADER = "mio-chat-token"
CODE_SCOPES = frozenset({Scope.CHAT, Scope.FILE})
NEEDS = Scope.CHAT
MISSING = ("missing credentials: send the mio-chat-id and mio-chat-token headers or 'Authorization: Bearer "
           "<API key>' (the Mio-Chat web app's fetches send none: the operator may set miochat.trusted_key)")


@dataclass(frozen=True, slots=True)
class MioClient:
    """A logged-in Mio-Chat client."""

    client_id: str
    principal: Principal

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin


@dataclass(frozen=True, slots=True)
class Codes:
    user_code: str | None = None
    admin_code: str | None = None
    code_user: str = "miochat"
    admin_user: str = "admin"


def credentials(headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(client id, token) from the upgrade/request headers, the query string, or a bearer header."""
    client_id = headers.get(ID_HEADER) or query.get(ID_HEADER)
    token = headers.get(TOKEN_HEADER) or query.get(TOKEN_HEADER) or bearer_token(headers.get("authorization"))
    return client_id, token


class Authenticator:
    def __init__(self, services: Services, codes: Codes, trusted: TrustedCaller | None = None) -> None:
        self._services = services
        self._codes = codes
        self._trusted = trusted
        self._creating = asyncio.Lock()

    async def login(self, client_id: str | int | None, token: str | None, *, address: str | None = None,
                    needs: Scope = NEEDS) -> MioClient:
        """`address`: the client's, for the throttle of wrong codes (when codes are configured,
        each login counts against it until it succeeds, as a password login does); `needs`: the
        scope the route needs (uploads: `file`)."""
        client = str(client_id).strip() if client_id is not None else ""
        if not client or len(client) > 200:
            raise Unauthenticated("missing mio-chat-id")
        if not token:
            raise Unauthenticated("invalid code")
        throttle = self._services.accounts.throttle if self._codes.user_code or self._codes.admin_code else None
        if throttle is not None:
            await throttle.attempt(None, address)
        principal = await self._from_code(token.strip())
        if principal is None:
            try:
                principal = await self._services.accounts.principal_from_token(token.strip())
            except Unauthenticated as exc:
                raise Unauthenticated("invalid code") from exc
            check_scope(principal, needs)
            try:
                await self._services.identities.link(principal, PLATFORM, client)
            except Conflict as exc:
                raise Forbidden("this mio-chat-id belongs to another account") from exc
        if throttle is not None:
            await throttle.succeeded(None, address)
        return MioClient(client, principal)

    async def principal(self, headers: Mapping[str, str], query: Mapping[str, str], address: str | None = None,
                        needs: Scope = NEEDS) -> MioClient:
        """For HTTP routes: the mio-chat headers, or a bearer key alone (the client id is then the
        user's), or nothing at all from a trusted address (acting as the trusted key)."""
        client_id, token = credentials(headers, query)
        if client_id is None and token is None:
            if self._trusted is None or not self._trusted.admits(address):
                raise Unauthenticated(MISSING)
            token = self._trusted.key
        if client_id is None and token:
            probe = await self._services.accounts.principal_from_token(token)
            client_id = f"user-{probe.user_id}"
        return await self.login(client_id, token, address=address, needs=needs)

    async def _from_code(self, token: str) -> Principal | None:
        codes = self._codes
        if codes.admin_code and secrets.compare_digest(token.encode(), codes.admin_code.encode()):
            user = await self._user(codes.admin_user, create=False)
            if user is None or user.role is not Role.ADMIN:
                raise Forbidden(f"the admin code's account '{codes.admin_user}' is not an administrator")
            return Principal(user.id, user.username, user.role, scopes_for_role(user.role), via="miochat_code")
        if codes.user_code and secrets.compare_digest(token.encode(), codes.user_code.encode()):
            user = await self._user(codes.code_user, create=True)
            if user is None:
                raise Forbidden("the user code's account could not be made")
            return Principal(user.id, user.username, Role.USER, CODE_SCOPES, via="miochat_code")
        return None

    async def _user(self, username: str, *, create: bool) -> User | None:
        # read again on every login (no cache), so deactivating the account closes code logins at once
        async with self._services.uow() as tx:
            user = await tx.users.by_username(username)
        if user is None and create:
            async with self._creating:
                try:  # no password: nobody logs in as it except through the code
                    user = await self._services.accounts.create_user(username, None)
                except Conflict:
                    async with self._services.uow() as tx:
                        user = await tx.users.by_username(username)
        if user is not None and not user.is_active:
            raise Forbidden("the account behind this code is deactivated")
        return user
