"""Issue 19, item 2: every operation of every face (the app's OpenAPI document, /v1 included) is
called with a key of each single scope. The key with the scope the route declares is let in (any
status but a refusal); every other key is refused with 403 in that face's own envelope. A route
added without a row here fails the first test, so no route goes undeclared."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from tests.integration.scopes.conftest import SCOPES, Server

pytestmark = pytest.mark.asyncio(loop_scope="module")

ANY = "any credential"  # account routes: who am I, log out, my usage
PUBLIC = "public"  # no credential at all (sign-up, health, capability links)

NATIVE: dict[str, str] = {
    "POST /api/auth/register": PUBLIC, "POST /api/auth/login": PUBLIC, "GET /api/auth/options": PUBLIC,
    "GET /api/models": "chat", "POST /api/files": "file", "GET /api/files/{file_id}": "file",
    "POST /api/auth/logout": ANY, "GET /api/auth/me": ANY, "GET /api/usage": ANY, "POST /api/auth/link-code": ANY,
    "GET /api/keys": "keys", "POST /api/keys": "keys", "PATCH /api/keys/{key_id}": "keys",
    "DELETE /api/keys/{key_id}": "keys",
    "GET /api/conversations": "chat", "POST /api/conversations": "chat",
    "GET /api/conversations/{conversation_id}": "chat", "PUT /api/conversations/{conversation_id}": "chat",
    "DELETE /api/conversations/{conversation_id}": "chat", "GET /api/messages/{conversation_id}": "chat",
    "POST /api/messages": "chat", "POST /api/messages/stream": "chat", "DELETE /api/messages/{message_id}": "chat",
    "GET /api/messages/{message_id}/stream": "chat", "POST /api/messages/{message_id}/stop": "chat",
    "GET /api/tools": "chat", "GET /api/tools/{name}": "chat", "POST /api/tools/{name}/execute": "chat",
    "GET /api/admin/users": "admin", "GET /api/admin/users/{user_id}": "admin",
    "PATCH /api/admin/users/{user_id}": "admin", "GET /api/admin/usage": "admin",
    "GET /api/admin/mcp": "admin", "PUT /api/admin/mcp/{name}": "admin", "DELETE /api/admin/mcp/{name}": "admin",
    "POST /api/admin/mcp/reconnect": "admin", "POST /api/admin/mcp/{name}/disable": "admin",
    "POST /api/admin/mcp/{name}/enable": "admin",
    "GET /api/profiles": "chat", "GET /api/admin/profiles": "admin", "POST /api/admin/profiles": "admin",
    "PUT /api/admin/profiles/{profile_id}": "admin", "DELETE /api/admin/profiles/{profile_id}": "admin",
    "POST /api/admin/users": "admin", "GET /api/admin/keys": "admin", "GET /api/admin/providers": "admin",
    "GET /api/admin/settings": "admin", "PUT /api/admin/settings": "admin", "GET /api/admin/platforms": "admin",
    "POST /api/admin/platforms": "admin", "GET /api/admin/platforms/{platform_id}": "admin",
    "PUT /api/admin/platforms/{platform_id}": "admin", "DELETE /api/admin/platforms/{platform_id}": "admin",
    "POST /api/admin/platforms/{platform_id}/enable": "admin",
    "POST /api/admin/platforms/{platform_id}/disable": "admin",
    "GET /healthz": PUBLIC, "GET /readyz": PUBLIC,
}
CHATGPT_PROXY = {f"POST /openai/{kind}{mode}": "chat" for kind in ("completions", "edits", "chat")
                 for mode in ("", "/stream", "/sse")} | {
    "POST /send": "chat", "GET /openai/models": "chat", "POST /openai/image": "chat",
    "GET /openai/image/file/{owner}/{file_id}": PUBLIC,
}
MIOCHAT = {f"POST /api/{path}": "chat" for path in (
    "system/login", "system/heartbeat", "onebot/message", "onebot/forward_msg", "onebot/del_message",
    "openai/models", "openai/completions", "share", "share/set")} | {
    # what the Mio-Chat web client fetches at start-up with plain fetch(): public, as in the original
    "GET /api/base_info": PUBLIC, "GET /api/qava": PUBLIC, "GET /api/onebot/plugins": PUBLIC,
    "GET /api/openai/tools": PUBLIC, "GET /api/openai/presets": PUBLIC,
    "DELETE /api/share/{token}": "chat", "GET /share/{token}": PUBLIC, "GET /share/{token}/preview.png": PUBLIC,
    # a share is read by its unguessable id alone (src/lib/client.js loadOriginalContactors)
    "GET /api/share": PUBLIC, "GET /s/{token}": PUBLIC,
    # the client's uploads need `file`, as /api/files does; their addresses are capability URLs
    "POST /api/upload/image": "file", "POST /api/upload/file": "file", "POST /api/upload/chunk": "file",
    "POST /api/upload/finalize": "file", "GET /api/uploaded/{owner}/{file_id}": PUBLIC,
}
MUSEBOT = {
    "GET /communicate": "chat", "POST /communicate": "chat", "GET /user/list": "chat",
    "POST /user/update/mode": "chat", "GET /record/list": "chat", "POST /user/token/add": "admin",
    "GET /conf/get": "admin", "POST /conf/update": "admin", "GET /command/get": "admin", "GET /mcp/get": "admin",
    "POST /mcp/update": "admin", "DELETE /mcp/delete": "admin", "POST /mcp/disable": "admin", "POST /mcp/sync": "admin",
    "GET /mcp/delete": "admin", "GET /mcp/disable": "admin", "GET /mcp/sync": "admin", "GET /pong": PUBLIC,
}
ASTRBOT = {
    "POST /api/v1/chat": "chat", "GET /api/v1/chat/sessions": "chat", "GET /api/v1/configs": "config",
    "GET /api/v1/chat/configs": "config",
    "POST /api/v1/file": "file", "GET /api/v1/file": "file", "GET /api/v1/im/bots": "im",
    "POST /api/v1/im/message": "im",
}
OPENAI = {f"{op}": "chat" for op in (
    "GET /v1/models", "GET /v1/models/{model}", "POST /v1/chat/completions", "POST /v1/completions",
    "POST /v1/embeddings", "POST /v1/images/generations", "POST /v1/audio/speech", "POST /v1/audio/transcriptions",
    "POST /v1/images/edits")}
TABLE = NATIVE | CHATGPT_PROXY | MIOCHAT | MUSEBOT | ASTRBOT | OPENAI

# values for path parameters: none of them names anything that exists
PATH_VALUES = {"key_id": "key_nope", "conversation_id": "conv_nope", "message_id": "999999", "name": "nope",
               "user_id": "999999", "profile_id": "nope", "owner": "1", "file_id": "nope", "token": "nope",
               "model": "echo", "platform_id": "nope"}
MUSEBOT_PREFIXES = ("/communicate", "/user/", "/record/", "/conf/", "/command/", "/mcp/")
MIOCHAT_PREFIXES = ("/api/system/", "/api/onebot/", "/api/openai/", "/api/share", "/api/upload")


def refusal(path: str, response: httpx.Response) -> int | None:
    """401/403 if the answer refuses the credential, in the face's own envelope; None otherwise."""
    if path.startswith(MUSEBOT_PREFIXES):  # MuseBot answers everything with HTTP 200 and a code
        code = response.json().get("code") if response.headers.get("content-type", "").startswith(
            "application/json") else None
        return {210401: 401, 210403: 403}.get(code) if isinstance(code, int) else None
    if path.startswith("/openai/") and path.endswith(("/stream", "/sse")):  # HTTP 200, `error` then `end`
        first = orjson.loads(response.text.removeprefix("data: ").split("\n", 1)[0])
        return first["code"] if first["message"] == "error" and first["code"] in (401, 403) else None
    if response.status_code not in (401, 403):
        return None
    body = response.json()
    if path.startswith("/v1/"):
        assert body["error"]["type"] == "invalid_request_error", body
    elif path.startswith("/api/v1/"):
        assert body["status"] == "error", body
    elif path.startswith(("/openai/", "/send")):
        assert body["code"] == response.status_code and body["data"] is None, body
    elif path.startswith(MIOCHAT_PREFIXES):
        assert body["code"] == 1 and body["message"] == "failed", body
    else:
        assert body["success"] is False and body["code"] == "forbidden" if response.status_code == 403 else True, body
    return response.status_code


async def test_every_operation_declares_a_scope(scoped: Server) -> None:
    document = (await scoped.client.get("/openapi.json")).json()
    listed = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert listed - TABLE.keys() == set(), "routes without a row in the scope table"
    assert TABLE.keys() - listed == set(), "rows for routes that no longer exist"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def keys(scoped: Server) -> dict[str, str]:
    """The admin's keys, one per single scope (an admin's, so the admin-scoped one is an administrator)."""
    return {scope: (await scoped.key("admin", name=scope, scopes=[scope]))["key"] for scope in SCOPES}


def _request(operation: str, key: str) -> tuple[str, str, dict[str, Any]]:
    method, path = operation.split(" ", 1)
    url = path.format(**PATH_VALUES)
    options: dict[str, Any] = {"headers": {"Authorization": f"Bearer {key}"}}
    if method in ("POST", "PUT", "PATCH"):
        options["json"] = {}
    if operation == "POST /api/keys":
        options["json"] = {"name": "from a key", "scopes": ["keys"]}  # no broader than the keys-only key
    if operation == "POST /api/system/login":  # Mio-Chat's login carries the credential in its body
        options = {"json": {"request_id": 1, "data": {"mio-chat-id": "table", "mio-chat-token": key}}}
    return method, url, options


@pytest.mark.parametrize("operation", sorted(op for op, needs in TABLE.items() if needs != PUBLIC))
async def test_each_scope_is_let_in_or_refused(scoped: Server, keys: dict[str, str], operation: str) -> None:
    needs = TABLE[operation]
    outcomes = {}
    for scope, key in keys.items():
        method, url, options = _request(operation, key)
        response = await scoped.client.request(method, url, **options)
        assert response.status_code < 500, (scope, response.text)
        outcomes[scope] = refusal(url, response)
    expected = {scope: None if needs in (ANY, scope) else 403 for scope in SCOPES}
    assert outcomes == expected


@pytest.mark.parametrize("operation", sorted(op for op, needs in TABLE.items() if needs == PUBLIC))
async def test_public_routes_refuse_nobody(scoped: Server, keys: dict[str, str], operation: str) -> None:
    for key in (None, keys["file"]):
        method, url, options = _request(operation, key or "")
        if key is None:
            options.pop("headers", None)
        response = await scoped.client.request(method, url, **options)
        assert response.status_code < 500 and refusal(url, response) is None, response.text
