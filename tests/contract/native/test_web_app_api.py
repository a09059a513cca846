"""What the web app reads before and around a chat: registration open or not, the models to pick
from, the caller's usage with its allowance."""

from __future__ import annotations

from pathlib import Path

from switchboard.config.settings import ProviderSettings
from tests.contract.native.conftest import Native, open_native
from tests.contract.native.test_bad_requests import assert_envelope

# configured models: the catalog never asks this address (nothing listens there)
UPSTREAM = ProviderSettings(name="up", base_url="http://127.0.0.1:9/v1", models=["gpt-4o", "deepseek-chat"])


async def test_auth_options_follow_the_live_registration_setting(native: Native) -> None:
    assert (await native.client.get("/api/auth/options")).json() == {
        "success": True, "data": {"registration_open": True}}
    changed = await native.client.put("/api/admin/settings", json={"registration": "closed"},
                                      headers=native.auth("admin"))
    assert changed.status_code == 200, changed.text
    assert (await native.client.get("/api/auth/options")).json()["data"] == {"registration_open": False}
    refused = await native.client.post("/api/auth/register", json={"username": "dave", "password": "password1"})
    assert "registration is closed" in assert_envelope(refused, 403, "forbidden")["message"]


async def test_models_list_what_the_caller_may_pick(tmp_path: Path) -> None:
    async with open_native(tmp_path, users=("alice",), providers=[UPSTREAM]) as native:
        listed = await native.client.get("/api/models", headers=native.auth("alice"))
        assert listed.status_code == 200, listed.text
        models = {m["id"]: m for m in listed.json()["data"]}
        assert models["gpt-4o"] == {"id": "gpt-4o", "provider": "up", "vision": True, "available": True}
        assert models["deepseek-chat"]["vision"] is False and "echo" in models

        created = await native.client.post("/api/keys", json={"allowed_models": ["deepseek-chat"]},
                                           headers=native.auth("alice"))
        key = {"Authorization": f"Bearer {created.json()['data']['key']}"}
        assert [m["id"] for m in (await native.client.get("/api/models", headers=key)).json()["data"]] == [
            "deepseek-chat"]


async def test_models_need_a_valid_credential(native: Native) -> None:
    assert_envelope(await native.client.get("/api/models"), 401, "unauthenticated")
    assert_envelope(await native.client.get("/api/models", headers={"Authorization": "Bearer nope"}), 401,
                    "unauthenticated")


async def test_usage_carries_the_callers_allowance(native: Native) -> None:
    unlimited = (await native.client.get("/api/usage", headers=native.auth("alice"))).json()["data"]
    assert (unlimited["token_allowance"], unlimited["tokens_remaining"], unlimited["unlimited"]) == (None, None, True)

    await native.client.patch(f"/api/admin/users/{native.saved['alice_id']}",
                              json={"unlimited": False, "token_allowance": 5000}, headers=native.auth("admin"))
    conversation = await native.client.post("/api/conversations", json={"model": "echo", "tools_enabled": False},
                                            headers=native.auth("alice"))
    turn = {"conversation_id": conversation.json()["data"]["id"], "content": "hello there"}
    sent = await native.client.post("/api/messages", json=turn, headers=native.auth("alice"))
    assert sent.status_code == 200, sent.text
    usage = (await native.client.get("/api/usage", headers=native.auth("alice"))).json()["data"]
    spent = usage["total"]["total_tokens"]
    assert spent > 0 and usage["unlimited"] is False
    assert (usage["token_allowance"], usage["tokens_remaining"]) == (5000, 5000 - spent)
    # the answer's own usage is on the stored message, so the page can sum a conversation's
    assert sent.json()["data"]["assistant_message"]["usage"]["completion_tokens"] > 0


async def test_conversations_are_searched_by_title_and_say_where_they_started(native: Native) -> None:
    for title in ("Trip to Paris", "paris budget", "50% off", "groceries"):
        await native.client.post("/api/conversations", json={"title": title}, headers=native.auth("alice"))
    await native.client.post("/api/conversations", json={"title": "Paris"}, headers=native.auth("bob"))
    created = await native.client.post("/api/keys", json={"scopes": ["chat"]}, headers=native.auth("alice"))
    key = {"Authorization": f"Bearer {created.json()['data']['key']}"}
    astrbot = await native.client.post("/api/v1/chat", json={"message": "hi from astrbot", "username": "al"},
                                       headers=key)
    assert astrbot.status_code == 200, astrbot.text

    async def search(q: str, **params: object) -> dict[str, object]:
        listed = await native.client.get("/api/conversations", params={"q": q, **params},
                                         headers=native.auth("alice"))
        assert listed.status_code == 200, listed.text
        return dict(listed.json()["data"])

    found = await search("PARIS")
    assert [c["title"] for c in found["items"]] == ["paris budget", "Trip to Paris"] and found["total"] == 2
    assert [c["title"] for c in (await search("paris", page=2, page_size=1))["items"]] == ["Trip to Paris"]
    assert [c["title"] for c in (await search("0%"))["items"]] == ["50% off"]
    assert (await search("%"))["total"] == 1
    everything = await search("")
    origins = {c["title"]: c["origin"] for c in everything["items"]}  # type: ignore[union-attr]
    assert origins["groceries"] == "native" and set(origins.values()) == {"native", "astrbot"}

    too_long = await native.client.get("/api/conversations", params={"q": "x" * 201}, headers=native.auth("alice"))
    assert_envelope(too_long, 422, "invalid_input")
