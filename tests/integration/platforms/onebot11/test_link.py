"""`/link <code>`: a user makes a one-time code in their account and sends it to the bot; from then
on that QQ account talks as them (their quota, their conversations in the web app)."""

from __future__ import annotations

import httpx

from tests.integration.platforms.onebot11.conftest import StartBot
from tests.support.onebot_peer import plain_text, text

ALICE_QQ = 20001


async def test_a_qq_account_is_linked_with_a_one_time_code(start_bot: StartBot) -> None:
    bot = await start_bot(allow_new_users=False)
    peer = await bot.peer()
    async with httpx.AsyncClient(base_url=bot.base_url) as http:
        await http.post("/api/auth/register", json={"username": "alice", "password": "password1"})
        login = await http.post("/api/auth/login", json={"username": "alice", "password": "password1"})
        auth = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        made = await http.post("/api/auth/link-code", headers=auth)
        assert made.status_code == 201
        code = made.json()["data"]["code"]
        assert made.json()["data"]["command"] == f"/link {code}"
        assert (await http.post("/api/auth/link-code")).status_code == 401

        await peer.private(ALICE_QQ, [text("/link WRONGCODE")])
        await peer.private(ALICE_QQ, [text(f"/link {code.lower()}")])
        refused, linked = await peer.wait_actions(2, "send_private_msg")
        assert "unknown, used or expired" in plain_text(refused["params"]["message"])
        assert plain_text(linked["params"]["message"]) == "Linked: this account now talks as alice."

        await peer.private(ALICE_QQ, [text("hello as alice")])
        sent = await peer.wait_actions(3, "send_private_msg")
        assert plain_text(sent[2]["params"]["message"]) == "Echo: hello as alice"
        conversations = (await http.get("/api/conversations", headers=auth)).json()["data"]["items"]
        assert [c["origin"] for c in conversations] == ["onebot"]  # how the web app names QQ chats

        await peer.private(20002, [text(f"/link {code}")])  # a code works once
        sent = await peer.wait_actions(4, "send_private_msg")
        assert "unknown, used or expired" in plain_text(sent[3]["params"]["message"])
