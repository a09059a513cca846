"""Chat profiles for everyone (issue 15): GET /api/profiles lists what a user may pick, without the
system prompts (administrators read those at /api/admin/profiles), and POST /api/conversations
`profile_id` makes the conversation follow one: its model and persona reach the provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.config.settings import ProviderSettings
from tests.contract.native.conftest import Native, open_native
from tests.contract.native.test_bad_requests import assert_envelope
from tests.support.upstream import CHAT_PATH, ScriptedUpstream

PERSONA = "You are Captain Profile. Answer like a pirate."


async def make_profile(native: Native, **fields: Any) -> dict[str, Any]:
    created = await native.client.post("/api/admin/profiles", json=fields, headers=native.auth("admin"))
    assert created.status_code == 201, created.text
    return dict(created.json()["data"])


async def test_any_user_lists_the_profiles_without_their_system_prompts(native: Native) -> None:
    made = await make_profile(native, name="pirate", model="echo", system_prompt=PERSONA, temperature=0.3)
    listed = await native.client.get("/api/profiles", headers=native.auth("alice"))
    assert listed.status_code == 200, listed.text
    choices = {p["name"]: p for p in listed.json()["data"]}
    assert choices["pirate"] == {"id": made["id"], "name": "pirate", "model": "echo", "temperature": 0.3,
                                 "tools_enabled": True, "has_persona": True, "is_default": False}
    assert choices["default"]["is_default"] is True and choices["default"]["has_persona"] is False
    assert PERSONA not in listed.text and "system_prompt" not in listed.text


async def test_listing_profiles_needs_a_valid_credential(native: Native) -> None:
    assert_envelope(await native.client.get("/api/profiles"), 401, "unauthenticated")
    assert_envelope(await native.client.get("/api/profiles", headers={"Authorization": "Bearer nope"}), 401,
                    "unauthenticated")
    created = await native.client.post("/api/keys", json={"scopes": ["file"]}, headers=native.auth("alice"))
    file_only = {"Authorization": f"Bearer {created.json()['data']['key']}"}
    assert_envelope(await native.client.get("/api/profiles", headers=file_only), 403, "forbidden")
    # the admin API stays closed to users even though they now see the profiles
    assert_envelope(await native.client.get("/api/admin/profiles", headers=native.auth("alice")), 403, "forbidden")


async def test_a_conversation_takes_its_profiles_model_and_persona(tmp_path: Path, upstream: ScriptedUpstream
                                                                   ) -> None:
    provider = ProviderSettings(name="up", base_url=upstream.base_url, models=["gpt-test", "gpt-pirate"])
    async with open_native(tmp_path, users=("alice",), providers=[provider], default_model="gpt-test") as native:
        profile = await make_profile(native, name="pirate", model="gpt-pirate", system_prompt=PERSONA)
        created = await native.client.post("/api/conversations", json={"profile_id": profile["id"]},
                                           headers=native.auth("alice"))
        assert created.status_code == 201, created.text
        conversation = created.json()["data"]
        assert conversation["profile_id"] == profile["id"]
        # the conversation's own fields stay empty: it follows the profile, even after the profile changes
        assert (conversation["model"], conversation["system_prompt"]) == (None, None)
        fetched = await native.client.get(f"/api/conversations/{conversation['id']}", headers=native.auth("alice"))
        assert fetched.json()["data"]["profile_id"] == profile["id"]

        turn = {"conversation_id": conversation["id"], "content": "ahoy", "tools_enabled": False}
        sent = await native.client.post("/api/messages", json=turn, headers=native.auth("alice"))
        assert sent.status_code == 200, sent.text
        call = [r for r in upstream.requests if r.path == CHAT_PATH][-1].json
        assert call["model"] == "gpt-pirate"
        assert call["messages"][0] == {"role": "system", "content": PERSONA}


async def test_the_conversations_own_settings_win_over_its_profile(tmp_path: Path, upstream: ScriptedUpstream
                                                                   ) -> None:
    provider = ProviderSettings(name="up", base_url=upstream.base_url, models=["gpt-test", "gpt-pirate"])
    async with open_native(tmp_path, users=("alice",), providers=[provider], default_model="gpt-test") as native:
        profile = await make_profile(native, name="pirate", model="gpt-pirate", system_prompt=PERSONA)
        body = {"profile_id": profile["id"], "model": "gpt-test", "system_prompt": "Be plain."}
        created = await native.client.post("/api/conversations", json=body, headers=native.auth("alice"))
        turn = {"conversation_id": created.json()["data"]["id"], "content": "ahoy", "tools_enabled": False}
        assert (await native.client.post("/api/messages", json=turn, headers=native.auth("alice"))).status_code == 200
        call = [r for r in upstream.requests if r.path == CHAT_PATH][-1].json
        assert call["model"] == "gpt-test" and call["messages"][0] == {"role": "system", "content": "Be plain."}


async def test_an_unknown_profile_is_a_404_and_no_conversation_is_made(native: Native) -> None:
    refused = await native.client.post("/api/conversations", json={"profile_id": "prof_nope"},
                                       headers=native.auth("alice"))
    assert "no chat profile" in assert_envelope(refused, 404, "not_found")["message"]
    listed = await native.client.get("/api/conversations", headers=native.auth("alice"))
    assert listed.json()["data"]["total"] == 0


@pytest.mark.parametrize("profile_id", [123, "", ["default"], "x" * 65])
async def test_a_malformed_profile_id_is_a_422_envelope(native: Native, profile_id: object) -> None:
    refused = await native.client.post("/api/conversations", json={"profile_id": profile_id},
                                       headers=native.auth("alice"))
    assert_envelope(refused, 422, "invalid_input")
