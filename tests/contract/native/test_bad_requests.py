"""Bad requests on every native route: always the native error envelope, never a stack trace.
None of them changes anything, so one app serves the whole module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.contract.native.conftest import MAX_BODY, Native

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def native(shared_native: Native) -> Native:
    return shared_native

# every route that takes a JSON body; {conv} / {user} are filled in per test
BODY_ROUTES = [
    ("POST", "/api/auth/register"), ("POST", "/api/auth/login"), ("POST", "/api/keys"),
    ("PATCH", "/api/keys/key_x"), ("PATCH", "/api/admin/users/{user}"), ("POST", "/api/conversations"),
    ("POST", "/api/conversations/"),
    ("PUT", "/api/conversations/{conv}"), ("PATCH", "/api/conversations/{conv}"), ("POST", "/api/messages"),
    ("POST", "/api/messages/"), ("POST", "/api/messages/stream"), ("POST", "/api/admin/users"),
    ("PUT", "/api/admin/settings"),
]
AUTHENTICATED_ROUTES = [
    ("POST", "/api/auth/logout"), ("GET", "/api/auth/me"), ("GET", "/api/keys"), ("POST", "/api/keys"),
    ("PATCH", "/api/keys/key_x"), ("DELETE", "/api/keys/key_x"), ("GET", "/api/admin/users"),
    ("GET", "/api/admin/users/1"),
    ("PATCH", "/api/admin/users/1"), ("GET", "/api/conversations"), ("GET", "/api/conversations/"),
    ("POST", "/api/conversations"), ("GET", "/api/conversations/c"), ("PUT", "/api/conversations/c"),
    ("DELETE", "/api/conversations/c"), ("GET", "/api/messages/c"), ("POST", "/api/messages/"),
    ("POST", "/api/messages/stream"), ("DELETE", "/api/messages/1"), ("GET", "/api/usage"),
    ("GET", "/api/admin/usage"), ("POST", "/api/admin/users"), ("GET", "/api/admin/keys"),
    ("GET", "/api/admin/providers"), ("GET", "/api/admin/settings"), ("PUT", "/api/admin/settings"),
    ("GET", "/api/models"), ("POST", "/api/files"), ("GET", "/api/files/file_x"),
]


def assert_envelope(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"success", "message", "code"}
    assert "Traceback" not in response.text and 'File "' not in response.text
    if code is not None:
        assert body.get("code") == code
    return dict(body)


async def conversation(native: Native, who: str = "alice", **body: Any) -> str:
    response = await native.client.post("/api/conversations", json=body, headers=native.auth(who))
    return str(response.json()["data"]["id"])


async def fill(native: Native, path: str) -> str:
    return path.format(conv=await conversation(native), user=native.saved["bob_id"])


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"a string"', b""])
async def test_bad_json_is_a_422_envelope(native: Native, method: str, path: str, raw: bytes) -> None:
    response = await native.client.request(method, await fill(native, path), content=raw, headers={
        **native.auth("admin"), "Content-Type": "application/json"})
    assert_envelope(response, 422, "invalid_input")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/auth/register", {}),
    ("POST", "/api/auth/register", {"username": ["alice"], "password": "password1"}),
    ("POST", "/api/auth/login", {"username": "alice"}),
    ("POST", "/api/auth/login", {"username": 5, "password": True}),
    ("POST", "/api/keys", {"scopes": ["root"]}),
    ("POST", "/api/keys", {"expires_days": "soon"}),
    ("POST", "/api/keys", {"expires_days": 0}),
    ("POST", "/api/keys", {"token_quota": 0}),
    ("POST", "/api/keys", {"token_quota": "lots"}),
    ("PATCH", "/api/keys/key_x", {"token_quota": 0}),
    ("PATCH", "/api/keys/key_x", {"rpm_limit": "fast"}),
    ("PATCH", "/api/keys/key_x", {"name": ""}),
    ("PATCH", "/api/admin/users/{user}", {"token_allowance": -1}),
    ("PATCH", "/api/admin/users/{user}", {"role": "god"}),
    ("PATCH", "/api/admin/users/{user}", {"is_active": "maybe"}),
    ("PATCH", "/api/admin/users/{user}", {"release_reserved": "please"}),
    ("POST", "/api/conversations/", {"temperature": "hot"}),
    ("POST", "/api/conversations/", {"max_tokens": 0}),
    ("POST", "/api/conversations/", {"title": 7}),
    ("PUT", "/api/conversations/{conv}", {"temperature": 3}),
    ("PUT", "/api/conversations/{conv}", {"thinking_enabled": "yes please"}),
    ("POST", "/api/messages/", {"content": "no conversation"}),
    ("POST", "/api/messages/", {"conversation_id": "{conv}", "files": "nope"}),  # content may be left out (regenerate)
    ("POST", "/api/messages/", {"conversation_id": "{conv}", "files": [{"file": "x"}]}),
    ("POST", "/api/messages/", {"conversation_id": "{conv}", "regenerate": "please"}),
    ("POST", "/api/messages/", {"conversation_id": 12, "content": "x"}),
    ("POST", "/api/messages/stream", {"conversation_id": "{conv}", "content": ["x"]}),
    ("POST", "/api/messages/stream", {"conversation_id": "{conv}", "content": "x", "images": "nope"}),
])
async def test_missing_or_wrong_typed_fields_are_a_422_envelope(native: Native, method: str, path: str,
                                                               body: dict[str, Any]) -> None:
    conv = await conversation(native)
    filled = {k: (v.format(conv=conv) if isinstance(v, str) else v) for k, v in body.items()}
    path = path.format(conv=conv, user=native.saved["bob_id"])
    response = await native.client.request(method, path, json=filled, headers=native.auth("admin" if "admin" in path
                                                                                           else "alice"))
    message = assert_envelope(response, 422, "invalid_input")["message"]
    assert message.startswith("invalid request:")


@pytest.mark.parametrize(("path", "params"), [
    ("/api/conversations", {"page": 0}), ("/api/conversations/", {"page_size": 1000}),
    ("/api/conversations", {"page": "first"}), ("/api/messages/{conv}", {"limit": 0}),
    ("/api/messages/{conv}", {"limit": 5000}), ("/api/admin/users", {"page_size": 0}),
    ("/api/admin/users/not-a-number", {}), ("/api/usage", {"by": "planet"}), ("/api/usage", {"days": 0}),
    ("/api/usage", {"days": 400}), ("/api/admin/usage", {"user_id": "bob"}), ("/api/admin/usage", {"user_id": 0}),
])
async def test_bad_query_and_path_values_are_a_422_envelope(native: Native, path: str, params: dict[str, Any]) -> None:
    response = await native.client.get(await fill(native, path), params=params, headers=native.auth("admin"))
    assert_envelope(response, 422, "invalid_input")


async def test_empty_and_too_long_messages_are_refused(native: Native) -> None:
    conv = await conversation(native)
    empty = await native.client.post("/api/messages/", json={"conversation_id": conv, "content": "  "},
                                     headers=native.auth("alice"))
    assert_envelope(empty, 400, "invalid_input")
    bad_message_id = await native.client.delete("/api/messages/abc", headers=native.auth("alice"))
    assert_envelope(bad_message_id, 422, "invalid_input")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_over_the_limit_is_a_413_envelope(native: Native, method: str, path: str) -> None:
    huge = b'{"content": "' + b"x" * (MAX_BODY + 1) + b'"}'
    response = await native.client.request(method, await fill(native, path), content=huge, headers={
        **native.auth("admin"), "Content-Type": "application/json"})
    assert_envelope(response, 413, "too_large")


async def test_a_chunked_body_over_the_limit_is_a_413_envelope_too(native: Native) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "'
        for _ in range(MAX_BODY // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    response = await native.client.post("/api/conversations", content=chunks(), headers={
        **native.auth("alice"), "Content-Type": "application/json"})
    assert_envelope(response, 413, "too_large")


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED_ROUTES)
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-token", "Basic YWxpY2U6cGFzc3dvcmQ=",
                                           "Bearer sb-not-a-real-key"])
async def test_every_authenticated_route_refuses_missing_or_invalid_credentials(
    native: Native, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await native.client.request(method, path, json={}, headers=headers)
    assert_envelope(response, 401, "unauthenticated")


async def test_wrong_passwords_and_taken_usernames(native: Native) -> None:
    login = await native.client.post("/api/auth/login", json={"username": "alice", "password": "wrong-password"})
    assert_envelope(login, 401, "unauthenticated")
    taken = await native.client.post("/api/auth/register", json={"username": "alice", "password": "password1"})
    assert_envelope(taken, 409, "conflict")
    weak = await native.client.post("/api/auth/register", json={"username": "dave", "password": "short"})
    assert_envelope(weak, 400, "invalid_input")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/admin/users", None), ("GET", "/api/admin/users/{me}", None),
    ("PATCH", "/api/admin/users/{me}", {"token_allowance": 1000000, "role": "admin"}),
    ("GET", "/api/admin/usage", None), ("GET", "/api/admin/usage?user_id={bob}&by=key", None),
    ("POST", "/api/admin/users", {"username": "mallory", "password": "password1", "role": "admin"}),
    ("PATCH", "/api/admin/users/{bob}", {"password": "taken over"}), ("GET", "/api/admin/keys", None),
    ("GET", "/api/admin/keys?user_id={bob}", None), ("GET", "/api/admin/providers", None),
    ("GET", "/api/admin/settings", None), ("PUT", "/api/admin/settings", {"registration": "closed"}),
])
async def test_non_admins_are_forbidden_on_admin_routes(native: Native, method: str, path: str,
                                                        body: dict[str, Any] | None) -> None:
    path = path.format(me=native.saved["alice_id"], bob=native.saved["bob_id"])
    assert_envelope(await native.client.request(method, path, json=body, headers=native.auth("alice")), 403,
                    "forbidden")
    me = (await native.client.get("/api/auth/me", headers=native.auth("alice"))).json()["data"]
    assert me["role"] == "user"


async def test_unknown_routes_and_methods_use_the_envelope(native: Native) -> None:
    assert_envelope(await native.client.get("/api/conversations/x/nothing", headers=native.auth("alice")), 404)
    assert_envelope(await native.client.delete("/api/conversations", headers=native.auth("alice")), 405)
