"""AstrBot's key handling: five places a key may travel, 401/403 bodies, scopes, expired and
revoked keys, and one key's sessions and files invisible to another user's key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.adapters.storage.uow import SqlUnitOfWork
from tests.contract.astrbot.golden import check_json
from tests.contract.astrbot.harness import Start, data_events
from tests.support.upstream import Reply, ScriptedUpstream

PLACES = {
    "x_api_key": lambda k: ({"X-API-Key": k}, {}),
    "bearer": lambda k: ({"Authorization": f"Bearer {k}"}, {}),
    "apikey_scheme": lambda k: ({"Authorization": f"ApiKey {k}"}, {}),
    "api_key_query": lambda k: ({}, {"api_key": k}),
    "key_query": lambda k: ({}, {"key": k}),
}


@pytest.mark.parametrize("place", PLACES)
async def test_the_key_is_read_from_every_place_astrbot_reads_it(start_astrbot: Start, place: str) -> None:
    astr = await start_astrbot()
    headers, params = PLACES[place](astr.keys["alice"])
    response = await astr.client.get("/api/v1/im/bots", headers=headers, params=params)
    assert response.status_code == 200 and response.json()["status"] == "ok"


async def test_missing_invalid_and_insufficient_keys(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    chat_only = await astr.key("alice", ["chat"])
    missing = await astr.client.get("/api/v1/configs")
    invalid = await astr.client.get("/api/v1/configs", headers={"X-API-Key": "sb-not-a-key"})
    garbage_bearer = await astr.client.get("/api/v1/configs", headers={"Authorization": "Bearer abc.def.ghi"})
    scope = await astr.client.get("/api/v1/configs", headers={"X-API-Key": chat_only})
    check_json("auth_missing.json", missing.status_code, missing.json())
    check_json("auth_invalid.json", invalid.status_code, invalid.json())
    check_json("auth_scope.json", scope.status_code, scope.json())
    assert garbage_bearer.status_code == 401 and garbage_bearer.json()["message"] == "Invalid API key"
    for path, scoped in (("/api/v1/file?attachment_id=x", "file"), ("/api/v1/im/bots", "im"),
                         ("/api/v1/chat/sessions?username=a", "chat")):
        key = await astr.key("alice", [s for s in ("chat", "file", "config", "im") if s != scoped])
        response = await astr.client.get(path, headers={"X-API-Key": key})
        assert response.status_code == 403, path


async def test_revoked_and_expired_keys_are_invalid(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    owner = {"Authorization": f"Bearer {astr.tokens['alice']}"}
    revoked = await astr.key("alice", name="to-revoke")
    keys = (await astr.client.get("/api/keys", headers=owner)).json()["data"]
    key_id = next(k["id"] for k in keys if k["name"] == "to-revoke")
    await astr.client.delete(f"/api/keys/{key_id}", headers=owner)
    response = await astr.client.get("/api/v1/im/bots", headers={"X-API-Key": revoked})
    assert (response.status_code, response.json()["message"]) == (401, "Invalid API key")

    expiring = await astr.key("alice", name="to-expire", expires_days=1)
    await _age_key(astr.app.state.runtime.uow, "to-expire")
    response = await astr.client.get("/api/v1/im/bots", headers={"X-API-Key": expiring})
    assert (response.status_code, response.json()["message"]) == (401, "Invalid API key")


async def _age_key(uow: SqlUnitOfWork, name: str) -> None:
    """Moves a key's expiry into the past, straight in the database."""
    async with uow() as tx:
        owner = await tx.users.by_username("alice")
        assert owner is not None
        for key in await tx.keys.list_for_user(owner.id):
            if key.name == name:
                key.expires_at = datetime.now(UTC) - timedelta(minutes=1)
                await tx.keys.update(key)


async def test_one_users_sessions_and_files_are_invisible_to_another(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    astr = await start_astrbot()
    await astr.user("mallory")
    upstream.push(Reply(text="secret answer"))
    _, raw = await astr.chat({"message": "secret", "username": "bob", "session_id": "private"})
    assert data_events(raw)[-1]["type"] == "end"
    uploaded = await astr.client.post("/api/v1/file", headers=astr.auth(),
                                      files={"file": ("secret.txt", b"secret", "text/plain")})
    attachment = uploaded.json()["data"]["attachment_id"]

    listed = await astr.client.get("/api/v1/chat/sessions", params={"username": "bob"}, headers=astr.auth("mallory"))
    fetched = await astr.client.get("/api/v1/file", params={"attachment_id": attachment}, headers=astr.auth("mallory"))
    referenced = await astr.client.post("/api/v1/chat", headers=astr.auth("mallory"), json={
        "username": "bob", "message": [{"type": "file", "attachment_id": attachment}]})
    upstream.push(Reply(text="fresh"))
    _, same_name = await astr.chat({"message": "hi", "username": "bob", "session_id": "private"}, who="mallory")

    assert listed.json()["data"]["total"] == 0
    assert fetched.json() == {"status": "error", "message": "Attachment not found", "data": None}
    # another's attachment is dropped as an unknown one; nothing else remains to answer
    assert referenced.json() == {"status": "error", "message": "Message content is empty (reply only is not allowed)",
                                 "data": None}
    # the same session id under another key is another session: nothing of bob's history leaks
    assert upstream.last.json["messages"] == [{"role": "user", "content": "hi"}]
    assert data_events(same_name)[-1]["type"] == "end"
