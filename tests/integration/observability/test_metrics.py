"""GET /metrics: Prometheus' format, for administrators only (unless made public), route templates
as labels (never raw paths), and this worker's MCP and IM state."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from switchboard.config.settings import MetricsSettings
from switchboard.core.domain.users import Role, Scope
from switchboard.core.services.accounts.keys import KeyOptions
from tests.support.gateway import MODEL, Gateway, Start

CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def admin_key(gw: Gateway) -> str:
    boss = await gw.runtime.services.accounts.create_user("boss", "password1", role=Role.ADMIN)
    issued = await gw.runtime.services.keys.issue(boss.id, KeyOptions(scopes=frozenset({Scope.ADMIN})))
    return issued.secret


def requests_counted(text: str) -> dict[tuple[str, str, str, str], float]:
    [family] = [f for f in text_string_to_metric_families(text) if f.name == "switchboard_http_requests"]
    return {(s.labels["face"], s.labels["route"], s.labels["method"], s.labels["status"]): s.value
            for s in family.samples if s.name.endswith("_total")}


async def test_only_administrators_read_it(gw: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gw.base_url) as client:
        login = await client.post("/api/auth/login", json={"username": "alice", "password": "password1"})
        alice_session = bearer(login.json()["data"]["access_token"])
        refused = [
            (await client.get("/metrics")).status_code,
            (await client.get("/metrics", headers=bearer("sb-not-a-key-at-all"))).status_code,
            (await client.get("/metrics", headers=bearer(gw.key))).status_code,  # chat scope only
            (await client.get("/metrics", headers=alice_session)).status_code,  # not an admin
        ]
        key = await admin_key(gw)
        boss = await client.post("/api/auth/login", json={"username": "boss", "password": "password1"})
        by_key = await client.get("/metrics", headers=bearer(key))
        by_session = await client.get("/metrics", headers=bearer(boss.json()["data"]["access_token"]))
        wrong_method = await client.post("/metrics", headers=bearer(key))
    assert refused == [401, 401, 403, 403]
    assert by_key.status_code == by_session.status_code == 200
    assert by_key.headers["content-type"].startswith("text/plain")
    assert "switchboard_http_request_duration_seconds_bucket" in by_key.text
    assert wrong_method.status_code == 405 and wrong_method.json()["success"] is False


async def test_traffic_is_counted_by_route_template(gw: Gateway) -> None:
    key = await admin_key(gw)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as client:
        for _ in range(2):
            assert (await client.post("/v1/chat/completions", json=CHAT, headers=bearer(gw.key))).status_code == 200
        for conversation_id in (123456, 654321):
            await client.get(f"/api/messages/{conversation_id}", headers=bearer(gw.key))
        await client.get("/no/such/path/7f3a9")
        await client.request("PROPFIND", "/v1/models")
        text = (await client.get("/metrics", headers=bearer(key))).text
    counted = requests_counted(text)
    assert counted[("openai", "/v1/chat/completions", "POST", "200")] == 2
    assert sum(v for (face, route, _, _), v in counted.items()
               if face == "native" and route == "/api/messages/{conversation_id}") == 2
    assert "123456" not in text and "654321" not in text and "7f3a9" not in text  # no raw paths
    assert any(route == "unmatched" for (_, route, _, _) in counted)
    assert any(method == "OTHER" for (_, _, method, _) in counted)  # PROPFIND is not a label value
    open_now = {s.labels["face"]: s.value for f in text_string_to_metric_families(text)
                if f.name == "switchboard_open_requests" for s in f.samples}
    assert open_now["openai"] == 0


async def test_public_when_configured(start_gateway: Start) -> None:
    gw = await start_gateway(metrics=MetricsSettings(public=True))
    async with httpx.AsyncClient(base_url=gw.base_url) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    families = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"switchboard_mcp_server_state", "switchboard_im_platform_state", "switchboard_http_requests"} <= families
