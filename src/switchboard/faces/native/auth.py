"""The native API takes `Authorization: Bearer <JWT access token | API key>`; each route names
the scope it needs (faces/_shared/credentials) through the dependency made here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.credentials import Needs, bearer_token, require_principal


def principal_dependency(services: Services, needs: Needs) -> Callable[[Request], Awaitable[Principal]]:
    async def current_principal(request: Request) -> Principal:
        return await require_principal(services.accounts, bearer_token(request.headers.get("authorization")), needs)

    return current_principal

