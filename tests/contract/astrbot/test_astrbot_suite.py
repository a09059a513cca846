"""AstrBot's own Open API tests, replayed: the requests of `tests/test_api_key_open_api.py` in
AstrBotDevs/AstrBot (at 19d00fb, and its seed-era form of March 2026) with the answers they
expect, in their words. Left out: what is not the Open API (the dashboard's `/api/apikey/*` and
`/api/v1/system-config`, made here through Switchboard's own key routes) and AstrBot's
administrator usernames (`chat:admin`), which Switchboard has no notion of."""

from __future__ import annotations

import uuid

from tests.contract.astrbot.harness import Astr, Start, data_events
from tests.support.upstream import ScriptedUpstream


async def _get(astr: Astr, url: str, key: str) -> tuple[int, dict[str, object]]:
    response = await astr.client.get(url, headers={"X-API-Key": key})
    return response.status_code, response.json()


async def test_api_key_scope_and_revoke(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    raw_key = await astr.key("alice", ["im"], name="im-scope-key")
    status, body = await _get(astr, "/api/v1/im/bots", raw_key)
    assert status == 200 and body["status"] == "ok" and isinstance(body["data"]["bot_ids"], list)  # type: ignore[index]
    assert (await _get(astr, "/api/v1/chat/sessions?page=1&page_size=10", raw_key))[0] == 403
    assert (await _get(astr, "/api/v1/configs", raw_key))[0] == 403
    denied = await astr.client.post("/api/v1/file", headers={"X-API-Key": raw_key},
                                    files={"file": ("denied.txt", b"scope denied", "text/plain")})
    assert denied.status_code == 403
    token = {"Authorization": f"Bearer {astr.tokens['alice']}"}
    keys = (await astr.client.get("/api/keys", headers=token)).json()["data"]
    key_id = next(k["id"] for k in keys if k["name"] == "im-scope-key")
    assert (await astr.client.delete(f"/api/keys/{key_id}", headers=token)).status_code < 300
    assert (await _get(astr, "/api/v1/im/bots", raw_key))[0] == 401


async def test_open_send_message_with_api_key(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    raw_key = await astr.key("alice", ["im"])
    response = await astr.client.post("/api/v1/im/message", headers={"X-API-Key": raw_key}, json={
        "umo": "webchat:FriendMessage:open_api_test_session", "message": "hello"})
    assert response.status_code == 200 and response.json()["status"] == "ok"


async def test_open_chat_send_auto_session_id_and_username(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    raw_key = await astr.key("alice", ["chat"])
    headers = {"X-API-Key": raw_key}
    _, raw = await astr.chat({"message": "hello", "username": "alice_auto_session", "enable_streaming": False})
    created_session_id = data_events(raw)[0]["session_id"]
    uuid.UUID(created_session_id)
    _, listed = await _get(astr, "/api/v1/chat/sessions?username=alice_auto_session", raw_key)
    (session,) = listed["data"]["sessions"]  # type: ignore[index]
    assert (session["session_id"], session["creator"], session["platform_id"]) == (
        created_session_id, "alice_auto_session", "webchat")

    await astr.chat({"message": "hello", "username": "bob_auto_session", "session_id": "open_api_existing_bob_session"})
    another = await astr.client.post("/api/v1/chat", headers=headers, json={
        "message": "hello", "username": "alice", "session_id": "open_api_existing_bob_session",
        "enable_streaming": False})
    assert another.json()["status"] == "error"
    assert another.json()["message"] == "session_id belongs to another username"
    missing = await astr.client.post("/api/v1/chat", headers=headers, json={"message": "hello"})
    assert missing.json()["status"] == "error" and missing.json()["message"] == "Missing key: username"


async def test_open_chat_sessions_pagination(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    raw_key = await astr.key("alice", ["chat"])
    creator, other_creator = f"alice_{uuid.uuid4().hex[:8]}", f"bob_{uuid.uuid4().hex[:8]}"
    for idx in range(3):
        await astr.chat({"message": "hi", "username": creator, "session_id": f"open_api_paginated_{idx}"})
    await astr.chat({"message": "hi", "username": other_creator, "session_id": "open_api_paginated_bob"})

    status, page_1 = await _get(astr, f"/api/v1/chat/sessions?page=1&page_size=2&username={creator}", raw_key)
    data = page_1["data"]
    assert status == 200 and page_1["status"] == "ok"
    assert (data["page"], data["page_size"], data["total"], len(data["sessions"])) == (1, 2, 3, 2)  # type: ignore[index]
    assert all(item["creator"] == creator for item in data["sessions"])  # type: ignore[index]
    _, page_2 = await _get(astr, f"/api/v1/chat/sessions?page=2&page_size=2&username={creator}", raw_key)
    assert page_2["data"]["page"] == 2 and len(page_2["data"]["sessions"]) == 1  # type: ignore[index]
    _, missing = await _get(astr, "/api/v1/chat/sessions?page=1&page_size=2", raw_key)
    assert (missing["status"], missing["message"]) == ("error", "Missing key: username")


async def test_open_chat_configs_list(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    raw_key = await astr.key("alice", ["config"])
    status, body = await _get(astr, "/api/v1/configs", raw_key)
    configs = body["data"]["configs"]  # type: ignore[index]
    assert status == 200 and body["status"] == "ok" and any(item["id"] == "default" for item in configs)
    for item in configs:
        assert isinstance(item["id"], str) and isinstance(item["name"], str)
        assert isinstance(item["path"], str) and isinstance(item["is_default"], bool)


async def test_open_api_auth_validation_and_key_carriers(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    missing = await astr.client.get("/api/v1/im/bots")
    assert (missing.status_code, missing.json()["status"], missing.json()["message"]) == (401, "error",
                                                                                           "Missing API key")
    status, invalid = await _get(astr, "/api/v1/im/bots", "abk_invalid")
    assert (status, invalid["status"], invalid["message"]) == (401, "error", "Invalid API key")
    raw_key = await astr.key("alice", ["im"])
    for headers, url in (({"X-API-Key": raw_key}, "/api/v1/im/bots"), ({}, f"/api/v1/im/bots?api_key={raw_key}"),
                         ({}, f"/api/v1/im/bots?key={raw_key}"), ({"Authorization": f"Bearer {raw_key}"},
                                                                  "/api/v1/im/bots"),
                         ({"Authorization": f"ApiKey {raw_key}"}, "/api/v1/im/bots")):
        response = await astr.client.get(url, headers=headers)
        assert response.status_code == 200 and isinstance(response.json()["data"]["bot_ids"], list)


async def test_open_chat_send_conversation_alias_and_blank_username(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    astr = await start_astrbot()
    conversation_id = f"open_api_conversation_{uuid.uuid4().hex[:10]}"
    _, raw = await astr.chat({"message": "hello", "username": "alias-user", "conversation_id": conversation_id,
                              "enable_streaming": False})
    assert data_events(raw)[0]["session_id"] == conversation_id
    blank = await astr.client.post("/api/v1/chat", headers=astr.auth(), json={
        "message": "hello", "username": "   ", "session_id": "open_api_blank", "enable_streaming": False})
    assert (blank.json()["status"], blank.json()["message"]) == ("error", "username is empty")


async def test_open_chat_send_config_resolution(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    cases = (({"config_id": "missing"}, "config_id not found: missing"),
             ({"config_name": "NotExists"}, "config_name not found: NotExists"))
    for extra, message in cases:
        response = await astr.client.post("/api/v1/chat", headers=astr.auth(), json={
            "message": "hello", "username": "alice", "session_id": f"openapi_cfg_{uuid.uuid4().hex[:8]}",
            "enable_streaming": False, **extra})
        assert (response.json()["status"], response.json()["message"]) == ("error", message)
    _, raw = await astr.chat({"message": "hello", "username": "alice", "session_id": "openapi_cfg_default",
                              "config_id": "default", "enable_streaming": False})
    assert data_events(raw)[-1]["type"] == "end"


async def test_open_chat_sessions_input_validation_and_filtering(start_astrbot: Start, upstream: ScriptedUpstream
                                                                 ) -> None:
    astr = await start_astrbot()
    creator = f"chat_bounds_{uuid.uuid4().hex[:8]}"
    await astr.chat({"message": "hi", "username": creator, "session_id": "open_api_bounds_webchat"})
    key = astr.keys["alice"]
    _, invalid = await _get(astr, f"/api/v1/chat/sessions?page=x&page_size=y&username={creator}", key)
    assert (invalid["status"], invalid["message"]) == ("error", "page and page_size must be integers")
    _, normalized = await _get(astr, f"/api/v1/chat/sessions?page=0&page_size=0&username={creator}", key)
    data = normalized["data"]
    assert (data["page"], data["page_size"], len(data["sessions"])) == (1, 1, 1)  # type: ignore[index]
    _, capped = await _get(astr, f"/api/v1/chat/sessions?page=1&page_size=1000&username={creator}", key)
    assert capped["data"]["page_size"] == 100  # type: ignore[index]
    _, filtered = await _get(astr, f"/api/v1/chat/sessions?page=1&page_size=10&username={creator}&platform_id=telegram",
                             key)
    assert filtered["data"]["total"] == 0  # type: ignore[index]
    _, empty = await _get(astr, "/api/v1/chat/sessions?page=1&page_size=2&username=%20%20", key)
    assert (empty["status"], empty["message"]) == ("error", "username is empty")


async def test_open_send_message_error_paths(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    cases = (({"umo": "webchat:FriendMessage:open_api_im_1", "message": None}, "Missing key: message"),
             ({"message": "hello"}, "Missing key: umo"),
             ({"umo": "broken-umo", "message": "hello"}, "Invalid umo:"),
             ({"umo": "platform-not-running:FriendMessage:1", "message": "hello"},
              "Bot not found or not running for platform: platform-not-running"))
    for body, message in cases:
        response = await astr.client.post("/api/v1/im/message", headers=astr.auth(), json=body)
        assert response.json()["status"] == "error" and response.json()["message"].startswith(message), body


async def test_file_scope_is_available_for_developer_api_key(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    raw_key = await astr.key("alice", ["file"])
    upload = await astr.client.post("/api/v1/file", headers={"X-API-Key": raw_key},
                                    files={"file": ("api-key-upload.txt", b"hello from api key", "text/plain")})
    data = upload.json()["data"]
    assert upload.status_code == 200 and upload.json()["status"] == "ok"
    assert (data["filename"], data["type"]) == ("api-key-upload.txt", "file") and data["attachment_id"]
