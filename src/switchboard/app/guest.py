"""The built-in guest user that anonymous callers act as, on faces the operator opened to them
(`chatgpt_proxy.allow_anonymous`: a trusted network only). Every anonymous conversation belongs
to this one user and its token allowance (the default one, set at creation) limits them all.

The user is created on the first anonymous request and read again on every one (no cache), so an
administrator who deactivates it closes anonymous access at once.
"""

from __future__ import annotations

import asyncio

from switchboard.core.domain.errors import Conflict, Forbidden
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.services.accounts.auth import AccountService

GUEST_SCOPES = frozenset({Scope.CHAT, Scope.FILE})


class GuestAccount:
    def __init__(self, uow: UnitOfWork, accounts: AccountService, username: str) -> None:
        self._uow = uow
        self._accounts = accounts
        self.username = username
        self._creating = asyncio.Lock()

    async def principal(self) -> Principal:
        async with self._uow() as tx:
            user = await tx.users.by_username(self.username)
        if user is None:
            async with self._creating:
                try:  # no password: nobody can log in as the guest
                    user = await self._accounts.create_user(self.username, None)
                except Conflict:  # another worker made it first
                    async with self._uow() as tx:
                        user = await tx.users.by_username(self.username)
        if user is None or not user.is_active:
            raise Forbidden("anonymous access is switched off (the guest account is deactivated)")
        if user.role is Role.ADMIN:
            raise Forbidden(f"the guest username '{self.username}' names an administrator; pick another")
        return Principal(user.id, user.username, Role.USER, GUEST_SCOPES, via="guest")
