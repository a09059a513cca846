"""The OpenAI API takes `Authorization: Bearer <API key>` (a Switchboard key, scope chat; a JWT
access token works too). Azure-style `api-key: <key>` is accepted as well."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from switchboard.core.services.gateway import Caller, GatewayService
from switchboard.faces._shared.credentials import bearer_token


def caller_dependency(gateway: GatewayService) -> Callable[[Request], Awaitable[Caller]]:
    async def current_caller(request: Request) -> Caller:
        headers = request.headers
        token = bearer_token(headers.get("authorization")) or headers.get("api-key")
        return await gateway.authenticate(token)

    return current_caller
