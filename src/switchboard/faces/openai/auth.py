"""The OpenAI API takes `Authorization: Bearer <API key>` (a Switchboard key, scope chat; a JWT
access token works too). Azure-style `api-key: <key>` is accepted as well."""

from __future__ import annotations

from switchboard.faces._shared.credentials import bearer_token
from switchboard.faces._shared.plain_asgi import PlainRequest


def credential(request: PlainRequest) -> str | None:
    return bearer_token(request.header(b"authorization")) or request.header(b"api-key")
