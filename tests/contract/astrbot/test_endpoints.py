"""Every other /api/v1 endpoint in AstrBot's envelope, compared with golden JSON files."""

from __future__ import annotations

from tests.contract.astrbot.golden import check_json
from tests.contract.astrbot.harness import Start, data_events
from tests.support.upstream import Reply, ScriptedUpstream


async def test_configs_list_the_profiles_with_default_first(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    admin = {"Authorization": f"Bearer {astr.tokens['admin']}"}
    created = await astr.client.post("/api/admin/profiles", headers=admin,
                                     json={"name": "pirate", "system_prompt": "Speak like a pirate."})
    assert created.status_code == 201, created.text

    response = await astr.client.get("/api/v1/configs", headers=astr.auth())

    check_json("configs.json", response.status_code, response.json())
    assert [c["is_default"] for c in response.json()["data"]["configs"]] == [True, False]


async def test_a_session_bound_to_a_config_uses_its_persona(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    admin = {"Authorization": f"Bearer {astr.tokens['admin']}"}
    pirate = (await astr.client.post("/api/admin/profiles", headers=admin, json={
        "name": "pirate", "system_prompt": "Speak like a pirate.", "model": "gpt-other", "temperature": 0.3,
    })).json()["data"]
    upstream.push(Reply(text="Arr"), Reply(text="Hello"), Reply(text="Arr again"))

    await astr.chat({"message": "hi", "username": "alice", "session_id": "s-cfg", "config_id": pirate["id"]})
    sent = upstream.last.json
    assert sent["messages"][0] == {"role": "system", "content": "Speak like a pirate."}
    assert (sent["model"], sent["temperature"]) == ("gpt-other", 0.3)

    await astr.chat({"message": "hi", "username": "alice", "session_id": "s-cfg", "config_id": "default"})
    assert upstream.last.json["messages"][0]["role"] == "user"  # "default" resets the session

    await astr.chat({"message": "hi", "username": "alice", "session_id": "s-cfg", "config_name": "pirate"})
    assert upstream.last.json["messages"][0]["role"] == "system"


async def test_unknown_configs_are_business_errors(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    for body, name in (({"config_id": "nope"}, "config_id"), ({"config_name": "nope"}, "config_name")):
        response = await astr.client.post("/api/v1/chat", json={"message": "hi", "username": "alice", **body},
                                          headers=astr.auth())
        check_json(f"chat_error_unknown_{name}.json", response.status_code, response.json())


async def test_chat_business_errors(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    cases = {
        "missing_username": {"message": "hi"},
        "empty_username": {"message": "hi", "username": "  "},
        "missing_message": {"username": "alice"},
        "reply_only": {"username": "alice", "message": [{"type": "reply", "message_id": 3}]},
        "unknown_part": {"username": "alice", "message": [{"type": "sticker"}]},
        "unknown_attachment": {"username": "alice", "message": [{"type": "file", "attachment_id": "file_x"}]},
        "wrong_type": {"username": "alice", "message": {"text": "hi"}},
    }
    for name, body in cases.items():
        response = await astr.client.post("/api/v1/chat", json=body, headers=astr.auth())
        assert response.status_code == 200, name
        check_json(f"chat_error_{name}.json", 200, response.json())


async def test_a_session_belongs_to_the_username_that_made_it(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(text="hi bob"))
    _, raw = await astr.chat({"message": "hi", "username": "bob", "session_id": "shared"})
    assert data_events(raw)[-1]["type"] == "end"

    response = await astr.client.post("/api/v1/chat", json={"message": "hi", "username": "carol",
                                                             "session_id": "shared"}, headers=astr.auth())

    check_json("chat_error_another_username.json", response.status_code, response.json())


async def test_sessions_page_and_filter(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    for session in ("s1", "s2", "s3"):
        upstream.push(Reply(text="ok"))
        await astr.chat({"message": f"hello {session}", "username": "bob", "session_id": session})
    upstream.push(Reply(text="ok"))
    await astr.chat({"message": "other", "username": "carol", "session_id": "c1"})

    first = await astr.client.get("/api/v1/chat/sessions", params={"username": "bob", "page_size": 2},
                                  headers=astr.auth())
    second = await astr.client.get("/api/v1/chat/sessions", params={"username": "bob", "page": 2, "page_size": 2},
                                   headers=astr.auth())
    other = await astr.client.get("/api/v1/chat/sessions", params={"username": "bob", "platform_id": "miochat"},
                                  headers=astr.auth())
    clamped = await astr.client.get("/api/v1/chat/sessions", params={"username": "bob", "page": 0, "page_size": 500},
                                    headers=astr.auth())

    check_json("sessions_page1.json", first.status_code, first.json())
    data = first.json()["data"]
    assert (data["page"], data["page_size"], data["total"]) == (1, 2, 3)
    ids = [s["session_id"] for s in data["sessions"] + second.json()["data"]["sessions"]]
    assert sorted(ids) == ["s1", "s2", "s3"]
    assert other.json()["data"] == {"sessions": [], "page": 1, "page_size": 20, "total": 0}
    assert (clamped.json()["data"]["page"], clamped.json()["data"]["page_size"]) == (1, 100)
    for query, name in (({}, "missing_username"), ({"username": "bob", "page": "x"}, "bad_page")):
        response = await astr.client.get("/api/v1/chat/sessions", params=query, headers=astr.auth())
        check_json(f"sessions_error_{name}.json", response.status_code, response.json())


async def test_file_upload_and_download(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    uploads = {"image": ("../../etc/cat photo.png", b"\x89PNG\r\n\x1a\n....", "image/png"),
               "record": ("voice.wav", b"RIFF....WAVE", "audio/wav"),
               "video": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
               "file": ("notes.txt", b"some notes", "text/plain")}
    for kind, upload in uploads.items():
        response = await astr.client.post("/api/v1/file", files={"file": upload}, headers=astr.auth())
        check_json(f"file_upload_{kind}.json", response.status_code, response.json())
        assert response.json()["data"]["type"] == kind
        fetched = await astr.client.get("/api/v1/file", params={"attachment_id": response.json()["data"][
            "attachment_id"]}, headers=astr.auth())
        assert fetched.status_code == 200 and fetched.content == upload[1]
        assert fetched.headers["content-type"].startswith(upload[2])
    missing = await astr.client.get("/api/v1/file", params={"attachment_id": "file_nope"}, headers=astr.auth())
    check_json("file_not_found.json", missing.status_code, missing.json())
    no_file = await astr.client.post("/api/v1/file", data={"x": "1"}, headers=astr.auth())
    check_json("file_upload_missing.json", no_file.status_code, no_file.json())


async def test_upload_over_the_limit_is_413(start_astrbot: Start) -> None:
    astr = await start_astrbot(limits={"max_upload_bytes": 1000})
    response = await astr.client.post("/api/v1/file", files={"file": ("big.bin", b"x" * 5000, "application/zip")},
                                      headers=astr.auth())
    assert response.status_code == 413
    assert response.json()["status"] == "error"


async def test_im_bots_and_proactive_message(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    bots = await astr.client.get("/api/v1/im/bots", headers=astr.auth())
    check_json("im_bots.json", bots.status_code, bots.json())
    upstream.push(Reply(text="hello"))
    await astr.chat({"message": "hi", "username": "bob", "session_id": "probe:1"})

    sent = await astr.client.post("/api/v1/im/message", headers=astr.auth(),
                                  json={"umo": "webchat:FriendMessage:probe:1", "message": "ping from api key"})
    check_json("im_message_ok.json", sent.status_code, sent.json())
    token = {"Authorization": f"Bearer {astr.tokens['alice']}"}
    conversations = (await astr.client.get("/api/conversations", headers=token)).json()["data"]["items"]
    messages = (await astr.client.get(f"/api/messages/{conversations[0]['id']}", headers=token)).json()["data"]
    assert (messages[-1]["role"], messages[-1]["content"], messages[-1]["status"]) == (
        "assistant", "ping from api key", "completed")

    errors = {"unknown_platform": {"umo": "telegram:FriendMessage:1", "message": "x"},
              "malformed_umo": {"umo": "webchat-1", "message": "x"},
              "bad_message_type": {"umo": "webchat:Whisper:1", "message": "x"},
              "missing_umo": {"message": "x"},
              "empty_message": {"umo": "webchat:FriendMessage:1", "message": "  "}}
    for name, body in errors.items():
        response = await astr.client.post("/api/v1/im/message", headers=astr.auth(), json=body)
        check_json(f"im_message_error_{name}.json", response.status_code, response.json())
