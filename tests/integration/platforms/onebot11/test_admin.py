"""GET /api/admin/platforms: each configured platform with its live state and settings, secrets
masked; only for administrators."""

from __future__ import annotations

import httpx

from tests.integration.platforms.onebot11.conftest import TOKEN, StartBot
from tests.support.app_settings import ADMIN
from tests.support.fakes import eventually


async def login(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await http.post("/api/auth/login", json={"username": username, "password": password})
    return {"Authorization": f"Bearer {response.json()['data']['access_token']}"}


async def test_administrators_see_the_platforms_with_secrets_masked(start_bot: StartBot) -> None:
    bot = await start_bot(platforms=[
        {"id": "qq", "type": "onebot11", "access_token": TOKEN},
        {"id": "qq2", "type": "onebot11", "mode": "forward", "url": "ws://127.0.0.1:9/", "access_token": "fwd",
         "reconnect_initial_seconds": 30},
    ])
    peer = await bot.peer()
    await peer.lifecycle()
    async with httpx.AsyncClient(base_url=bot.base_url) as http:
        admin = await login(http, ADMIN.username, ADMIN.password)
        await eventually(lambda: "10000" in bot.runtime.services.proactive.bots()[0].accounts)
        listed = (await http.get("/api/admin/platforms", headers=admin)).json()["data"]
        assert TOKEN not in str(listed) and "fwd" not in str(listed)
        qq, qq2 = listed
        assert (qq["id"], qq["status"], qq["running"], qq["accounts"]) == (
            "qq", "connected", True, [{"id": "10000", "online": True}])
        assert qq["settings"]["access_token"] == "***" and qq["settings"]["mode"] == "reverse"
        assert qq2["settings"]["url"] == "ws://127.0.0.1:9/" and qq2["running"] is False
        await http.post("/api/auth/register", json={"username": "carol", "password": "password1"})
        carol = await login(http, "carol", "password1")
        refused = await http.get("/api/admin/platforms", headers=carol)
        assert refused.status_code == 403 and refused.json()["success"] is False
        assert (await http.get("/api/admin/platforms")).status_code == 401
