"""How each face carries credentials, declared in /openapi.json so that Swagger UI (/docs) offers
an Authorize button and sends them. Which operations need none is said here once (sign-up, health,
capability links); a test checks it against how the running server really answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BEARER = {"type": "http", "scheme": "bearer",
          "description": "A login token from POST /api/auth/login, or an API key (sb-...)."}
SCHEMES: dict[str, dict[str, Any]] = {
    "bearer": BEARER,
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key",
                    "description": "For pages that cannot set headers; prefer a header."},
    "keyQuery": {"type": "apiKey", "in": "query", "name": "key"},
    "mioChatToken": {"type": "apiKey", "in": "header", "name": "mio-chat-token"},
    "basicKey": {"type": "http", "scheme": "basic",
                 "description": "The API key as the password (http://musebot:KEY@host), for MuseBot's admin console."},
}
BY_FACE: dict[str, tuple[str, ...]] = {
    "native": ("bearer",), "openai": ("bearer",), "chatgpt_proxy": ("bearer",),
    "musebot": ("bearer", "basicKey", "apiKeyHeader", "apiKeyQuery"),
    "astrbot": ("bearer", "apiKeyHeader", "apiKeyQuery", "keyQuery"),
    "miochat": ("bearer", "mioChatToken"),
}
PUBLIC_OPERATIONS = frozenset({
    "POST /api/auth/register", "POST /api/auth/login", "GET /api/auth/options", "GET /healthz", "GET /readyz",
    "GET /share/{token}", "GET /share/{token}/preview.png", "GET /openai/image/file/{owner}/{file_id}",
    "GET /pong",
    # what the Mio-Chat web client fetches at start-up with plain fetch()
    "GET /api/base_info", "GET /api/qava", "GET /api/onebot/plugins", "GET /api/openai/tools",
    "GET /api/openai/presets",
    # a Mio-Chat share, read by its unguessable id alone
    "GET /api/share", "GET /s/{token}",
    # a Mio-Chat upload's address (a capability URL: the browser shows it in <img src>)
    "GET /api/uploaded/{owner}/{file_id}",
})


def declare_security(document: dict[str, Any], face_of: Callable[[str], str | None]) -> None:
    """`face_of(path)`: the name of the face that answers `path`."""
    document.setdefault("components", {})["securitySchemes"] = SCHEMES
    for path, operations in document.get("paths", {}).items():
        schemes = BY_FACE.get(face_of(path) or "", ())
        for method, operation in operations.items():
            if f"{method.upper()} {path}" in PUBLIC_OPERATIONS or not schemes:
                operation["security"] = []
            else:
                operation["security"] = [{name: []} for name in schemes]
