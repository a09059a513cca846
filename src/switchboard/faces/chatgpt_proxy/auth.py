"""The proxy takes `Authorization: Bearer <API key>` (a JWT access token works too).

When the operator opens the face to anonymous callers (`chatgpt_proxy.allow_anonymous`, for a
trusted network only), a request without credentials acts as the one built-in guest user, whose
quota every anonymous caller shares. A request that does send credentials must send valid ones:
a wrong key is an error, never a silent fall-back to the guest. Every route with credentials
needs the `chat` scope (NEEDS); the image links (routes_media) are capability URLs without any.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.credentials import bearer_token, check_scope, require_principal

GuestSource = Callable[[], Awaitable[Principal]]
NEEDS = Scope.CHAT


def principal_dependency(
    services: Services, guest: GuestSource | None
) -> Callable[[Request], Awaitable[Principal]]:
    async def current_principal(request: Request) -> Principal:
        token = bearer_token(request.headers.get("authorization"))
        if token is None and guest is not None and not request.headers.get("authorization"):
            return check_scope(await guest(), NEEDS)
        return await require_principal(services.accounts, token, NEEDS)

    return current_principal
