"""Chat profiles managed through the native admin API, and heartbeats while the model is silent."""

from __future__ import annotations

from switchboard.config.settings import StreamingSettings
from tests.contract.astrbot.harness import Start, data_events
from tests.support.upstream import Reply, ScriptedUpstream


async def test_admins_manage_profiles_and_default_stays(start_astrbot: Start) -> None:
    astr = await start_astrbot()
    admin = {"Authorization": f"Bearer {astr.tokens['admin']}"}
    user = {"Authorization": f"Bearer {astr.tokens['alice']}"}

    refused = await astr.client.post("/api/admin/profiles", headers=user, json={"name": "mine"})
    created = await astr.client.post("/api/admin/profiles", headers=admin, json={"name": "terse", "temperature": 0.1})
    duplicate = await astr.client.post("/api/admin/profiles", headers=admin, json={"name": "terse"})
    profile = created.json()["data"]
    updated = await astr.client.put(f"/api/admin/profiles/{profile['id']}", headers=admin,
                                    json={"system_prompt": "Be brief.", "temperature": None})
    delete_default = await astr.client.delete("/api/admin/profiles/default", headers=admin)
    deleted = await astr.client.delete(f"/api/admin/profiles/{profile['id']}", headers=admin)
    listed = await astr.client.get("/api/admin/profiles", headers=admin)
    # profiles carry system prompts: a user reads only ids and names, through AstrBot's configs
    prompts_refused = await astr.client.get("/api/admin/profiles", headers=user)

    assert refused.status_code == 403
    assert created.status_code == 201 and profile["temperature"] == 0.1 and profile["is_default"] is False
    assert duplicate.status_code == 409
    assert (updated.json()["data"]["system_prompt"], updated.json()["data"]["temperature"]) == ("Be brief.", None)
    assert delete_default.status_code == 409
    assert deleted.status_code == 200
    assert [p["id"] for p in listed.json()["data"]] == ["default"]
    assert prompts_refused.status_code == 403 and "system_prompt" not in prompts_refused.text


async def test_heartbeat_comments_while_the_model_is_silent(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot(streaming=StreamingSettings(flush_seconds=0.05, heartbeat_seconds=0.2))
    upstream.push(Reply(text="late", first_byte_delay=0.9))

    _, raw = await astr.chat({"message": "hi", "username": "alice", "session_id": "slow"})

    assert raw.count(": ping\n\n") >= 2
    assert [e["type"] for e in data_events(raw)][-1] == "end"
