"""Issue 19, item 2, as the attacker did it: a limited chat key minted an unlimited key and nulled
its own limits; file-, im- and config-only keys chatted, read conversations, ran tools and minted
or revoked keys. Each attack goes through the running server; each must be refused, and leave
nothing changed behind it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.scopes.conftest import Server, open_server

LIMITED = {"token_quota": 50, "allowed_models": ["gpt-test"], "rpm_limit": 1}


def bearer(key: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['key']}"}


async def alices_keys(server: Server) -> dict[str, dict[str, Any]]:
    """Alice's keys as her login lists them (without last_used_at, which a refused call may set)."""
    listed = await server.client.get("/api/keys", headers=server.auth("alice"))
    return {k["id"]: {f: v for f, v in k.items() if f != "last_used_at"} for k in listed.json()["data"]}


async def test_a_limited_chat_key_can_neither_mint_nor_free_itself(fresh: Server) -> None:
    key = await fresh.key("alice", scopes=["chat"], **LIMITED)
    other = await fresh.key("alice", name="laptop", scopes=["chat", "file"])
    before = await alices_keys(fresh)

    minted = await fresh.client.post("/api/keys", headers=bearer(key), json={
        "name": "escape", "scopes": ["chat", "file", "config", "im"]})
    freed = await fresh.client.patch(f"/api/keys/{key['id']}", headers=bearer(key), json={
        "token_quota": None, "allowed_models": [], "rpm_limit": None})
    listed = await fresh.client.get("/api/keys", headers=bearer(key))
    revoked = await fresh.client.delete(f"/api/keys/{other['id']}", headers=bearer(key))

    for refused in (minted, freed, listed, revoked):
        assert refused.status_code == 403, refused.text
        assert refused.json() == {"success": False, "message": "this API key lacks the 'keys' scope",
                                  "code": "forbidden"}
    assert await alices_keys(fresh) == before


async def test_a_keys_scoped_key_makes_only_keys_no_broader_than_itself(fresh: Server) -> None:
    maker = await fresh.key("alice", scopes=["chat", "keys"], tpm_limit=1000, expires_days=7, **LIMITED)
    broader = [
        {"scopes": ["chat", "keys", "file"]}, {"allowed_models": []}, {"allowed_models": ["gpt-other"]},
        {"allowed_models": ["gpt-test"], "token_quota": None}, {"token_quota": 51}, {"rpm_limit": None},
        {"rpm_limit": 2}, {"tpm_limit": None}, {"tpm_limit": 1001}, {"expires_days": None}, {"expires_days": 8},
    ]
    within = {"scopes": ["chat"], "allowed_models": ["gpt-test"], "token_quota": 20, "rpm_limit": 1,
              "tpm_limit": 500, "expires_days": 3}

    for change in broader:
        refused = await fresh.client.post("/api/keys", headers=bearer(maker), json={**within, **change})
        assert refused.status_code == 403 and refused.json()["success"] is False, (change, refused.text)
    made = await fresh.client.post("/api/keys", headers=bearer(maker), json=within)
    too_much = await fresh.client.post("/api/keys", headers=bearer(maker), json={**within, "token_quota": 31})
    rest = await fresh.client.post("/api/keys", headers=bearer(maker), json={**within, "token_quota": 30})

    assert made.status_code == 201 and rest.status_code == 201, (made.text, rest.text)
    assert too_much.status_code == 403 and "30 unspent tokens" in too_much.json()["message"]
    keys = await alices_keys(fresh)
    # the quota it gave away counts as its own: it and its keys together still spend at most 50
    assert (keys[maker["id"]]["token_quota"], keys[maker["id"]]["tokens_left"]) == (50, 0)
    child = made.json()["data"]
    assert (child["scopes"], child["token_quota"], child["allowed_models"]) == (["chat"], 20, ["gpt-test"])
    # the key it made has no `keys` scope: it cannot make any
    grandchild = await fresh.client.post("/api/keys", headers=bearer(child), json={"scopes": ["chat"]})
    assert grandchild.status_code == 403


async def test_a_key_changes_no_limits_and_revokes_only_what_it_covers(fresh: Server) -> None:
    maker = await fresh.key("alice", scopes=["chat", "keys"], **LIMITED)
    child = (await fresh.client.post("/api/keys", headers=bearer(maker), json={
        "scopes": ["chat"], "allowed_models": ["gpt-test"], "token_quota": 10, "rpm_limit": 1})).json()["data"]
    broad = await fresh.key("alice", name="laptop", scopes=["chat", "file"])

    own_limits = await fresh.client.patch(f"/api/keys/{maker['id']}", headers=bearer(maker),
                                          json={"token_quota": 1_000_000})
    own_name = await fresh.client.patch(f"/api/keys/{maker['id']}", headers=bearer(maker), json={"name": "ci"})
    childs_limits = await fresh.client.patch(f"/api/keys/{child['id']}", headers=bearer(maker),
                                             json={"token_quota": None})
    broad_revoked = await fresh.client.delete(f"/api/keys/{broad['id']}", headers=bearer(maker))
    child_revoked = await fresh.client.delete(f"/api/keys/{child['id']}", headers=bearer(maker))
    # the login session keeps every power it had
    raised = await fresh.client.patch(f"/api/keys/{maker['id']}", headers=fresh.auth("alice"),
                                      json={"token_quota": 100})

    assert own_limits.status_code == 403 and "own limits" in own_limits.json()["message"]
    assert own_name.status_code == 200 and own_name.json()["data"]["name"] == "ci"
    assert childs_limits.status_code == 403
    assert broad_revoked.status_code == 403
    assert child_revoked.status_code == 200
    assert raised.status_code == 200 and raised.json()["data"]["token_quota"] == 100
    keys = await alices_keys(fresh)
    assert keys[broad["id"]]["revoked_at"] is None and keys[child["id"]]["token_quota"] == 10


async def test_keys_made_at_once_never_share_the_same_tokens(tmp_path: Path, database_url: str) -> None:
    async with open_server(tmp_path / "app", database_url=database_url) as server:
        maker = await server.key("alice", scopes=["chat", "keys"], token_quota=50)
        made = await asyncio.gather(*(server.client.post("/api/keys", headers=bearer(maker), json={
            "scopes": ["chat"], "token_quota": 10}) for _ in range(12)))
        keys = await alices_keys(server)

    assert sorted(r.status_code for r in made) == [201] * 5 + [403] * 7
    assert keys[maker["id"]]["tokens_left"] == 0


NOT_CHAT = ["file", "im", "config"]


async def _attacks(server: Server, key: dict[str, Any], conversation: str, other: str) -> list[httpx.Response]:
    """Everything a key without `chat` (or `keys`) tried, on the native face, MuseBot and AstrBot."""
    c, h = server.client, bearer(key)
    return [
        await c.post("/api/messages", headers=h, json={"conversation_id": conversation, "content": "hi"}),
        await c.post("/api/messages/stream", headers=h, json={"conversation_id": conversation, "content": "hi"}),
        await c.get("/api/conversations", headers=h),
        await c.get(f"/api/conversations/{conversation}", headers=h),
        await c.get(f"/api/messages/{conversation}", headers=h),
        await c.post("/api/tools/get_time/execute", headers=h, json={}),
        await c.post("/api/keys", headers=h, json={"scopes": [key["scopes"][0]]}),
        await c.delete(f"/api/keys/{other}", headers=h),
        await c.post("/communicate", headers=h, params={"prompt": "hi", "user_id": "u1"}),
        await c.get("/record/list", headers=h),
        await c.post("/user/update/mode", headers=h, data={"user_id": "u1", "mode": "echo"}),
        await c.post("/api/v1/chat", headers=h, json={"message": "hi", "username": "alice"}),
        await c.get("/api/v1/chat/sessions", headers=h),
        await c.post("/openai/chat", headers=h, json={"prompt": "hi"}),
        await c.post("/v1/chat/completions", headers=h, json={"model": "echo", "messages": [
            {"role": "user", "content": "hi"}]}),
    ]


@pytest.mark.parametrize("scope", NOT_CHAT)
async def test_keys_without_chat_cannot_chat_read_run_tools_or_manage_keys(fresh: Server, scope: str) -> None:
    made = await fresh.client.post("/api/conversations", json={"title": "private"}, headers=fresh.auth("alice"))
    conversation = made.json()["data"]["id"]
    other = await fresh.key("alice", name="laptop", scopes=["chat", "file"])
    key = await fresh.key("alice", name=scope, scopes=[scope])
    keys_before = await alices_keys(fresh)

    answers = await _attacks(fresh, key, conversation, other["id"])

    for answer in answers:
        path = answer.request.url.path
        if path.startswith(("/communicate", "/record/", "/user/")):  # MuseBot: HTTP 200, its code
            assert answer.json()["code"] == 210403, (path, answer.text)
        else:
            assert answer.status_code == 403, (path, answer.text)
    assert await alices_keys(fresh) == keys_before
    messages = await fresh.client.get(f"/api/messages/{conversation}", headers=fresh.auth("alice"))
    assert messages.json()["data"] == []
