"""The proxy takes `Authorization: Bearer <API key>` (a JWT access token works too).

When the operator opens the face to anonymous callers (`chatgpt_proxy.allow_anonymous`, for a
trusted network only), a request without credentials acts as the one built-in guest user, whose
quota every anonymous caller shares. A request that does send credentials must send valid ones:
a wrong key is an error, never a silent fall-back to the guest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.credentials import bearer_token, require_principal

GuestSource = Callable[[], Awaitable[Principal]]


def principal_dependency(
    services: Services, guest: GuestSource | None
) -> Callable[[Request], Awaitable[Principal]]:
    async def current_principal(request: Request) -> Principal:
        token = bearer_token(request.headers.get("authorization"))
        if token is None and guest is not None and not request.headers.get("authorization"):
            return await guest()
        return await require_principal(services.accounts, token, Scope.CHAT)

    return current_principal
