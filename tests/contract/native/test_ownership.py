"""A user can never see, change, stream into or delete another user's conversation or message:
every conversation and message route answers 404, exactly as for an id that does not exist."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.native.conftest import Native


async def alices_things(native: Native) -> tuple[str, int, int]:
    created = await native.client.post("/api/conversations", json={"title": "alice's secret", "model": "echo"},
                                       headers=native.auth("alice"))
    conv = created.json()["data"]["id"]
    sent = await native.client.post("/api/messages/", json={"conversation_id": conv, "content": "private"},
                                    headers=native.auth("alice"))
    data = sent.json()["data"]
    return conv, data["user_message"]["id"], data["assistant_message"]["id"]


ROUTES = [
    ("GET", "/api/conversations/{conv}", None),
    ("PUT", "/api/conversations/{conv}", {"title": "bob was here"}),
    ("PATCH", "/api/conversations/{conv}", {"title": "bob was here"}),
    ("DELETE", "/api/conversations/{conv}", None),
    ("GET", "/api/messages/{conv}", None),
    ("POST", "/api/messages", {"conversation_id": "{conv}", "content": "bob writes"}),
    ("POST", "/api/messages/", {"conversation_id": "{conv}", "content": "bob writes"}),
    ("POST", "/api/messages/stream", {"conversation_id": "{conv}", "content": "bob streams"}),
    ("DELETE", "/api/messages/{question}", None),
    ("DELETE", "/api/messages/{answer}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_another_users_ids_are_not_found_on_every_route(native: Native, method: str, path: str,
                                                              body: dict[str, Any] | None) -> None:
    conv, question, answer = await alices_things(native)
    ids = {"conv": conv, "question": question, "answer": answer}
    filled = {k: v.format(**ids) if isinstance(v, str) else v for k, v in (body or {}).items()} if body else None
    mine = await native.client.post("/api/conversations", json={}, headers=native.auth("bob"))
    missing = {"conv": "conv_does_not_exist", "question": 10**9, "answer": 10**9 + 1}

    foreign = await native.client.request(method, path.format(**ids), json=filled, headers=native.auth("bob"))
    absent_body = {k: v.format(**missing) if isinstance(v, str) else v for k, v in (body or {}).items()}
    absent = await native.client.request(method, path.format(**missing), json=absent_body if body else None,
                                         headers=native.auth("bob"))

    assert mine.status_code == 201
    assert foreign.status_code == absent.status_code == 404, foreign.text
    assert foreign.json() == absent.json() | {"message": foreign.json()["message"]}
    assert foreign.json()["success"] is False and foreign.json()["code"] == "not_found"
    assert "alice" not in foreign.text and "private" not in foreign.text
    # and alice's conversation is exactly as she left it
    got = await native.client.get(f"/api/conversations/{conv}", headers=native.auth("alice"))
    assert got.json()["data"]["title"] == "alice's secret"
    messages = (await native.client.get(f"/api/messages/{conv}", headers=native.auth("alice"))).json()["data"]
    assert [(m["id"], m["content"]) for m in messages] == [(question, "private"), (answer, "Echo: private")]


async def test_another_users_api_key_cannot_be_revoked(native: Native) -> None:
    key = (await native.client.post("/api/keys", json={}, headers=native.auth("alice"))).json()["data"]
    response = await native.client.delete(f"/api/keys/{key['id']}", headers=native.auth("bob"))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    still_works = await native.client.get("/api/auth/me", headers={"Authorization": f"Bearer {key['key']}"})
    assert still_works.status_code == 200


async def test_lists_only_show_ones_own(native: Native) -> None:
    await alices_things(native)
    listed = await native.client.get("/api/conversations", headers=native.auth("bob"))
    assert listed.json()["data"]["total"] == 0 and listed.json()["data"]["items"] == []
