"""What the web app's admin console calls: creating accounts and resetting passwords, everyone's
API keys, the providers' health and the runtime settings. Each on a live server, admin only, in the
native envelope on every failure."""

from __future__ import annotations

from typing import Any

from switchboard.config.settings import GatewaySettings, ProviderSettings
from tests.contract.native.test_bad_requests import assert_envelope
from tests.integration.native.conftest import Api, Start
from tests.support.app_settings import MODEL
from tests.support.upstream import Reply, ScriptedUpstream

NEW_ROUTES = [("POST", "/api/admin/users"), ("GET", "/api/admin/keys"), ("GET", "/api/admin/providers"),
              ("GET", "/api/admin/settings"), ("PUT", "/api/admin/settings")]
SECRET = "sk-provider-secret-never-shown"


async def refusals(api: Api, who: str) -> None:
    """Every new route: 401 without a credential, 403 for a user who is not an administrator."""
    for method, path in NEW_ROUTES:
        assert_envelope(await api.client.request(method, path, json={}), 401, "unauthenticated")
        bad = {"Authorization": "Bearer not-a-token"}
        assert_envelope(await api.client.request(method, path, json={}, headers=bad), 401, "unauthenticated")
        assert_envelope(await api.client.request(method, path, json={}, headers=api.auth(who)), 403, "forbidden")


async def test_admins_create_accounts_even_with_registration_closed(start_native: Start) -> None:
    api = await start_native(registration="closed")
    created = await api.client.post("/api/admin/users", headers=api.auth("admin"), json={
        "username": "carol", "password": "password1", "email": "carol@example.com", "token_allowance": 1000})
    assert created.status_code == 201, created.text
    carol = created.json()["data"]
    assert {k: carol[k] for k in ("username", "email", "role", "is_active", "token_allowance", "unlimited",
                                  "tokens_used", "tokens_reserved")} == {
        "username": "carol", "email": "carol@example.com", "role": "user", "is_active": True,
        "token_allowance": 1000, "unlimited": False, "tokens_used": 0, "tokens_reserved": 0}
    await api.login("carol", "password1")
    await refusals(api, "carol")

    listed = await api.client.get("/api/admin/users", params={"q": "CAR"}, headers=api.auth("admin"))
    detail = await api.client.get(f"/api/admin/users/{carol['id']}", headers=api.auth("admin"))
    assert listed.json()["data"]["items"] == [detail.json()["data"]] and listed.json()["data"]["total"] == 1
    root2 = {"username": "root2", "password": "password1", "role": "admin", "unlimited": True}
    other = await api.client.post("/api/admin/users", json=root2, headers=api.auth("admin"))
    assert (other.json()["data"]["role"], other.json()["data"]["token_allowance"]) == ("admin", None)

    registered = await api.client.post("/api/auth/register", json={"username": "dave", "password": "password1"})
    assert_envelope(registered, 403, "forbidden")


BAD_NEW_ACCOUNTS: list[tuple[Any, int, str]] = [
    ({"username": "carol", "password": "password1"}, 409, "conflict"),  # carol exists
    ({"username": "erin", "password": "short"}, 400, "invalid_input"),
    ({"username": "e rin", "password": "password1"}, 400, "invalid_input"),
    ({"username": "erin", "password": "password1", "email": "not an address"}, 400, "invalid_input"),
    ({"username": "erin"}, 422, "invalid_input"),
    ({"username": "erin", "password": "password1", "role": "root"}, 422, "invalid_input"),
    ({"username": "erin", "password": "password1", "token_allowance": -5}, 422, "invalid_input"),
    ({"username": "erin", "password": "p" * 257}, 422, "invalid_input"),
    ({"username": "e" * 65, "password": "password1"}, 422, "invalid_input"),
    ([], 422, "invalid_input"),
]


async def test_bad_new_accounts_are_refused_and_none_is_made(start_native: Start) -> None:
    api = await start_native()
    await api.user("carol")
    for body, status, code in BAD_NEW_ACCOUNTS:
        response = await api.client.post("/api/admin/users", json=body, headers=api.auth("admin"))
        assert_envelope(response, status, code)
    huge = {"username": "erin", "password": "password1", "email": "x" * 3_000_000}
    for method, path in [("POST", "/api/admin/users"), ("PUT", "/api/admin/settings")]:
        assert_envelope(await api.client.request(method, path, json=huge, headers=api.auth("admin")), 413)
    users = (await api.client.get("/api/admin/users", headers=api.auth("admin"))).json()["data"]
    assert sorted(u["username"] for u in users["items"]) == ["admin", "carol"]


async def test_a_password_reset_ends_the_users_sessions(start_native: Start) -> None:
    api = await start_native()
    carol_id = await api.user("carol")
    old_session = api.tokens["carol"]
    key = (await api.client.post("/api/keys", json={"name": "script"}, headers=api.auth("carol"))).json()["data"]

    short = await api.client.patch(f"/api/admin/users/{carol_id}", json={"password": "short", "is_active": False},
                                   headers=api.auth("admin"))
    assert_envelope(short, 400, "invalid_input")
    assert (await api.client.get("/api/auth/me", headers=api.auth("carol"))).status_code == 200  # nothing changed
    reset = await api.client.patch(f"/api/admin/users/{carol_id}", json={"password": "a new password"},
                                   headers=api.auth("admin"))
    assert reset.status_code == 200 and "password" not in reset.text

    refused = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {old_session}"})
    assert "password was changed" in assert_envelope(refused, 401, "unauthenticated")["message"]
    old_password = await api.client.post("/api/auth/login", json={"username": "carol", "password": "password1"})
    assert_envelope(old_password, 401, "unauthenticated")
    await api.login("carol", "a new password")
    assert (await api.client.get("/api/auth/me", headers=api.auth("carol"))).status_code == 200
    by_key = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {key['key']}"})
    assert by_key.status_code == 200  # API keys are credentials of their own: revoke them one by one
    not_admin = await api.client.patch(f"/api/admin/users/{carol_id}", json={"password": "carol's choice"},
                                       headers=api.auth("carol"))
    assert_envelope(not_admin, 403, "forbidden")


async def test_admins_see_and_manage_everyones_keys_and_users_only_their_own(start_native: Start) -> None:
    api = await start_native()
    alice_id, bob_id = await api.user("alice"), await api.user("bob")
    alices = (await api.client.post("/api/keys", json={"name": "alice's"}, headers=api.auth("alice"))).json()["data"]
    bobs = (await api.client.post("/api/keys", json={"name": "bob's"}, headers=api.auth("bob"))).json()["data"]

    everyone = await api.client.get("/api/admin/keys", headers=api.auth("admin"))
    only_bob = await api.client.get("/api/admin/keys", params={"user_id": bob_id}, headers=api.auth("admin"))
    rows = {k["id"]: k for k in everyone.json()["data"]}
    assert (rows[alices["id"]]["user_id"], rows[alices["id"]]["username"]) == (alice_id, "alice")
    assert (rows[bobs["id"]]["user_id"], rows[bobs["id"]]["username"]) == (bob_id, "bob")
    assert [k["id"] for k in only_bob.json()["data"]] == [bobs["id"]]
    assert alices["key"] not in everyone.text and "key_hash" not in everyone.text and '"key"' not in everyone.text
    for bad in ("0", "x", str(2**64)):
        response = await api.client.get("/api/admin/keys", params={"user_id": bad}, headers=api.auth("admin"))
        assert_envelope(response, 422, "invalid_input")

    for method, body in [("PATCH", {"name": "not yours"}), ("DELETE", None)]:
        response = await api.client.request(method, f"/api/keys/{bobs['id']}", json=body, headers=api.auth("alice"))
        assert_envelope(response, 404, "not_found")
    renamed = await api.client.patch(f"/api/keys/{bobs['id']}", json={"name": "renamed by admin", "rpm_limit": 5},
                                     headers=api.auth("admin"))
    assert (renamed.json()["data"]["name"], renamed.json()["data"]["rpm_limit"]) == ("renamed by admin", 5)
    revoked = await api.client.delete(f"/api/keys/{bobs['id']}", headers=api.auth("admin"))
    assert revoked.json()["data"]["revoked_at"] is not None
    with_revoked_key = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {bobs['key']}"})
    assert_envelope(with_revoked_key, 401, "unauthenticated")


async def test_providers_show_their_health_and_never_their_keys(
    start_native: Start, upstream: ScriptedUpstream,
) -> None:
    provider = ProviderSettings(name="up", base_url=upstream.base_url, api_key=SECRET, models=[MODEL], max_retries=0)
    api = await start_native(providers=[provider], gateway=GatewaySettings(failures_to_cool=1, cooldown_seconds=60))
    await api.user("alice")
    await refusals(api, "alice")
    [fresh] = (await api.client.get("/api/admin/providers", headers=api.auth("admin"))).json()["data"]
    assert fresh == {"name": "up", "base_url": upstream.base_url.rstrip("/"), "models": [MODEL], "healthy": True,
                     "cooling_down_until": None, "last_error": None}

    upstream.push(Reply(status=503))
    key = (await api.client.post("/api/keys", json={"name": "v1"}, headers=api.auth("admin"))).json()["data"]["key"]
    failed = await api.client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                                   json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert failed.status_code >= 500
    response = await api.client.get("/api/admin/providers", headers=api.auth("admin"))
    [cooling] = response.json()["data"]
    assert cooling["healthy"] is False and cooling["cooling_down_until"] and "503" in cooling["last_error"]
    assert SECRET not in response.text


async def test_settings_are_listed_and_changed_at_once_all_or_nothing(start_native: Start) -> None:
    api = await start_native()
    await api.user("alice")
    await refusals(api, "alice")
    before = (await api.client.get("/api/admin/settings", headers=api.auth("admin"))).json()["data"]
    assert before["registration"] == "open" and "tool_rounds" in before and "rag_enabled" not in before

    closing = {"registration": "closed", "default_token_allowance": 500}
    changed = await api.client.put("/api/admin/settings", json=closing, headers=api.auth("admin"))
    assert changed.status_code == 200, changed.text
    assert {**before, "registration": "closed", "default_token_allowance": 500} == changed.json()["data"]
    assert (await api.client.get("/api/admin/settings", headers=api.auth("admin"))).json()["data"] == changed.json()[
        "data"]
    closed = await api.client.post("/api/auth/register", json={"username": "dave", "password": "password1"})
    assert_envelope(closed, 403, "forbidden")  # no restart needed

    for body, named in [({"tool_rounds": 3, "colour": "blue"}, "colour"), ({"tool_rounds": -1}, "tool_rounds"),
                        ({"registration": "sometimes"}, "registration"), ({"rag_enabled": True}, "rag_enabled")]:
        response = await api.client.put("/api/admin/settings", json=body, headers=api.auth("admin"))
        assert named in assert_envelope(response, 400, "invalid_input")["message"]
    for malformed in ([], "text", {"tool_rounds": [1]}, {"image_size": "x" * 2001}, {f"k{i}": 1 for i in range(101)}):
        response = await api.client.put("/api/admin/settings", json=malformed, headers=api.auth("admin"))
        assert_envelope(response, 422, "invalid_input")
    after = (await api.client.get("/api/admin/settings", headers=api.auth("admin"))).json()["data"]
    assert after == changed.json()["data"]



async def test_the_live_default_model_is_the_one_every_chat_without_a_choice_uses(
        start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native(models=[MODEL, "gpt-other"])
    await api.user("alice")
    conversation = await api.conversation("alice")
    changed = await api.client.put("/api/admin/settings", json={"default_model": "gpt-other"},
                                   headers=api.auth("admin"))
    assert changed.status_code == 200, changed.text

    upstream.push(Reply(text="hi"))
    sent = await api.client.post("/api/messages", json={"conversation_id": conversation, "content": "hello"},
                                 headers=api.auth("alice"))
    assert sent.status_code == 200, sent.text
    assert upstream.last.json["model"] == "gpt-other"  # no restart needed
