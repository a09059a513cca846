"""The native API takes `Authorization: Bearer <JWT access token | API key>`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.credentials import bearer_token, require_principal


def principal_dependency(services: Services) -> Callable[[Request], Awaitable[Principal]]:
    async def current_principal(request: Request) -> Principal:
        return await require_principal(services.accounts, bearer_token(request.headers.get("authorization")))

    return current_principal
