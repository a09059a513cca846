"""`chatgpt_proxy.allow_anonymous`: callers without credentials act as the one built-in guest user."""

from __future__ import annotations

from tests.contract.chatgpt_proxy.conftest import Proxy, lines

CHAT = {"messages": [{"role": "user", "content": "hi"}]}
OPEN = {"chatgpt_proxy": {"allow_anonymous": True, "guest_username": "visitor"}}


async def test_anonymous_callers_share_the_guest_user(start_proxy) -> None:  # type: ignore[no-untyped-def]
    proxy: Proxy = await start_proxy(**OPEN)
    first = await proxy.post("/openai/chat", CHAT, who=None)
    assert first.status_code == 200, first.text
    chatcode = first.json()["data"]["chatcode"]
    # another anonymous caller is the same guest, so the chatcode works for it too
    again = await proxy.post("/openai/chat/stream", {**CHAT, "chatcode": chatcode}, who=None)
    assert lines(again)[-2] == {"code": 0, "data": chatcode, "message": "code"}
    assert (await proxy.post("/send", {"text": "hi"}, who=None)).status_code == 200
    # a real user cannot reach the guest's conversations, nor the guest a user's: another's
    # chatcode is an unknown one, which starts a new conversation of the caller's own
    mine = (await proxy.post("/openai/chat", {**CHAT, "chatcode": chatcode})).json()["data"]["chatcode"]
    alices = (await proxy.post("/openai/chat", CHAT)).json()["data"]["chatcode"]
    guests = (await proxy.post("/openai/chat", {**CHAT, "chatcode": alices}, who=None)).json()["data"]["chatcode"]
    assert len({chatcode, mine, alices, guests}) == 4
    assert len(await proxy.messages("alice", alices)) == 2
    admin = await proxy.client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
    users = await proxy.client.get("/api/admin/users", params={"q": "visitor"}, headers={
        "Authorization": f"Bearer {admin.json()['data']['access_token']}"})
    assert [u["username"] for u in users.json()["data"]["items"]] == ["visitor"]


async def test_wrong_credentials_never_fall_back_to_the_guest(start_proxy) -> None:  # type: ignore[no-untyped-def]
    proxy: Proxy = await start_proxy(**OPEN)
    response = await proxy.client.post("/openai/chat", json=CHAT, headers={"Authorization": "Bearer sb-wrong"})
    assert response.status_code == 401 and response.json()["code"] == 401


async def test_quotas_apply_to_the_guest(start_proxy) -> None:  # type: ignore[no-untyped-def]
    proxy: Proxy = await start_proxy(default_token_allowance=5, **OPEN)
    response = await proxy.post("/openai/chat", CHAT, who=None)
    assert response.status_code == 429 and response.json()["code"] == 429


async def test_anonymous_access_is_off_by_default(proxy: Proxy) -> None:
    assert (await proxy.post("/openai/chat", CHAT, who=None)).status_code == 401


async def test_deactivating_the_guest_closes_anonymous_access(start_proxy) -> None:  # type: ignore[no-untyped-def]
    proxy: Proxy = await start_proxy(**OPEN)
    assert (await proxy.post("/send", {"text": "hi"}, who=None)).status_code == 200
    login = await proxy.client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
    admin = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    users = await proxy.client.get("/api/admin/users", params={"q": "visitor"}, headers=admin)
    guest_id = users.json()["data"]["items"][0]["id"]
    changed = await proxy.client.patch(f"/api/admin/users/{guest_id}", json={"is_active": False}, headers=admin)
    assert changed.status_code == 200
    refused = await proxy.post("/send", {"text": "hi"}, who=None)
    assert refused.status_code == 403 and refused.json()["code"] == 403
