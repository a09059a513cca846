"""Failure paths that change state (logout, revoked or expired keys, deactivation, closed
registration): each test gets a fresh app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from switchboard.adapters.security.jwt_tokens import JwtTokenIssuer
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.quotas.allowances import QuotaPolicy, QuotaService
from tests.contract.native.conftest import Native, open_native
from tests.contract.native.test_bad_requests import assert_envelope


async def test_expired_forged_and_logged_out_tokens_are_refused(native: Native, tmp_path: Path) -> None:
    secret = (tmp_path / "secret.key").read_text().strip()
    expired = JwtTokenIssuer(secret, timedelta(seconds=-30)).issue(native.saved["alice_id"]).token
    other_secret = "another-secret-long-enough-for-hs256-keys"
    forged = JwtTokenIssuer(other_secret, timedelta(hours=1)).issue(native.saved["alice_id"]).token
    valid = JwtTokenIssuer(secret, timedelta(hours=1)).issue(native.saved["alice_id"]).token
    assert (await native.client.get("/api/auth/me", headers={"Authorization": f"Bearer {valid}"})).status_code == 200

    for token, reason in [(expired, "expired"), (forged, "invalid")]:
        response = await native.client.get("/api/conversations", headers={"Authorization": f"Bearer {token}"})
        assert reason in assert_envelope(response, 401, "unauthenticated")["message"]
    await native.client.post("/api/auth/logout", headers=native.auth("alice"))
    response = await native.client.get("/api/conversations", headers=native.auth("alice"))
    assert "revoked" in assert_envelope(response, 401, "unauthenticated")["message"]


async def test_revoked_and_expired_api_keys_are_refused(native: Native) -> None:
    keys = []
    for _ in range(2):
        created = await native.client.post("/api/keys", json={"expires_days": 1}, headers=native.auth("alice"))
        keys.append(created.json()["data"])
    await native.client.delete(f"/api/keys/{keys[0]['id']}", headers=native.auth("alice"))
    async with native.app.state.runtime.uow() as tx:
        key = await tx.keys.get(keys[1]["id"])
        key.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        await tx.keys.update(key)

    for key_data, reason in [(keys[0], "revoked"), (keys[1], "expired")]:
        response = await native.client.get("/api/conversations", headers={"Authorization": f"Bearer {key_data['key']}"})
        assert reason in assert_envelope(response, 401, "unauthenticated")["message"]


async def test_a_deactivated_user_is_refused_everywhere(native: Native) -> None:
    await native.client.patch(f"/api/admin/users/{native.saved['bob_id']}", json={"is_active": False},
                              headers=native.auth("admin"))
    for method, path in [("GET", "/api/conversations"), ("POST", "/api/conversations"), ("GET", "/api/keys")]:
        assert_envelope(await native.client.request(method, path, json={}, headers=native.auth("bob")), 403,
                        "forbidden")
    login = await native.client.post("/api/auth/login", json={"username": "bob", "password": "password1"})
    assert_envelope(login, 403, "forbidden")


async def test_closed_registration_is_forbidden(tmp_path: Path) -> None:
    async with open_native(tmp_path, users=(), registration="closed") as closed:
        response = await closed.client.post("/api/auth/register", json={"username": "dave", "password": "password1"})
        assert_envelope(response, 403, "forbidden")
        assert (await closed.client.get("/api/auth/me", headers=closed.auth("admin"))).status_code == 200


async def test_a_key_with_its_own_token_quota_is_refused_once_spent(tmp_path: Path) -> None:
    async with open_native(tmp_path, auth_cache_seconds=0) as native:
        created = await native.client.post("/api/keys", json={"name": "script", "token_quota": 30},
                                           headers=native.auth("alice"))
        metered = created.json()["data"]
        headers = {"Authorization": f"Bearer {metered['key']}"}
        conversation = await native.client.post("/api/conversations", json={"model": "echo", "tools_enabled": False},
                                                headers=headers)  # no tools: their descriptions count as prompt
        turn = {"conversation_id": conversation.json()["data"]["id"], "content": "hello there"}
        assert (await native.client.post("/api/messages/", json=turn, headers=headers)).status_code == 200

        listed = (await native.client.get("/api/keys", headers=native.auth("alice"))).json()["data"]
        [spent] = [k for k in listed if k["id"] == metered["id"]]
        # the turn held what the key had left (its answer capped to it) and was charged no more; what
        # is left now is too little for another turn's prompt and shortest answer
        assert 1 < spent["tokens_used"] <= 30 and spent["tokens_left"] < 26
        refused = await native.client.post("/api/messages/", json=turn, headers=headers)
        assert "own token quota" in assert_envelope(refused, 429, "quota_exceeded")["message"]
        assert (await native.client.post("/api/messages/", json=turn, headers=native.auth("alice"))).status_code == 200


async def test_an_admin_releases_what_a_crashed_worker_left_reserved(native: Native) -> None:
    bob = native.saved["bob_id"]
    await native.client.patch(f"/api/admin/users/{bob}", json={"token_allowance": 1000}, headers=native.auth("admin"))
    crashed = QuotaService(native.app.state.runtime.uow, QuotaPolicy(), "wrk_gone")  # a worker never seen again
    await crashed.reserve(Principal(bob, "bob", Role.USER, frozenset({Scope.CHAT}), via="jwt"), 100, 100)
    before = (await native.client.get(f"/api/admin/users/{bob}", headers=native.auth("admin"))).json()["data"]
    assert (before["tokens_reserved"], before["tokens_remaining"]) == (200, 800)

    refused = await native.client.patch(f"/api/admin/users/{bob}", json={"release_reserved": True},
                                        headers=native.auth("bob"))
    assert_envelope(refused, 403, "forbidden")
    released = await native.client.patch(f"/api/admin/users/{bob}", json={"release_reserved": True},
                                         headers=native.auth("admin"))
    assert released.status_code == 200
    assert (released.json()["data"]["tokens_reserved"], released.json()["data"]["tokens_remaining"]) == (0, 1000)
