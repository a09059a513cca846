"""Every request of seed 002 (`../shared/seeds/002-admin-and-communicate.md`), in the document's order
and with its own values where it gives them, is answered without an error; its one literal example
(`POST /api/communicate?prompt=/photo sunset&user_id=12345` with an image as an octet-stream body)
is sent byte for byte as written there and edits that image."""

from __future__ import annotations

import base64
import sys
from typing import Any

from tests.integration.musebot.harness import OTHER, Muse
from tests.support.mcp_servers import TEST_SERVER_SCRIPT
from tests.support.upstream import PNG_PIXEL, Reply, ScriptedUpstream

SUCCESS = {"code": 0, "message": "success", "msg": "success"}


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert {k: body[k] for k in SUCCESS} == SUCCESS, body
    return body


async def test_the_documents_photo_example_edits_the_posted_image(muse: Muse, upstream: ScriptedUpstream) -> None:
    # the example's request line as written (a space in the query, as a raw HTTP client sends it)
    answer = await muse.client.post(
        "/api/communicate?prompt=/photo sunset&user_id=12345", content=PNG_PIXEL,
        headers={"Content-Type": "application/octet-stream", **muse.auth("admin")})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert answer.text == "data:image/png;base64," + base64.b64encode(PNG_PIXEL).decode()
    assert upstream.last.path == "/v1/images/edits" and upstream.last.form["prompt"] == "sunset"
    records = ok(await muse.client.get("/record/list", params={"user_id": "12345", "record_type": 1},
                                       headers=muse.auth("admin")))["data"]
    assert records["total"] == 1 and records["list"][0]["answer"] == answer.text


async def test_each_admin_request_of_the_document_is_answered(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="hello"))
    admin = muse.auth("admin")
    client = muse.client
    await muse.say("hello", user_id="12345")  # a user and a record for the listings to show
    # 1-4: the user and record routes, with the document's parameter names
    ok(await client.post("/user/token/add", json={"user_id": "12345", "token": 100}, headers=admin))
    listed = ok(await client.get("/user/list", params={"page": 1, "page_size": 10, "user_id": "12345"},
                                 headers=admin))["data"]
    assert listed["total"] == 1 and {"id", "user_id", "mode", "token", "updatetime", "avail_token"} <= set(
        listed["list"][0])
    ok(await client.post("/user/update/mode", data={"user_id": "12345", "mode": OTHER}, headers=admin))
    records = ok(await client.get("/record/list", params={"page": 1, "pageSize": 10, "isDeleted": 0,
                                                           "user_id": "12345"}, headers=admin))["data"]
    assert records["total"] == 1 and {"id", "user_id", "question", "answer", "content", "token", "is_deleted",
                                      "create_time", "record_type"} <= set(records["list"][0])
    # 6, 2, 3: start-up flags and the configuration
    assert ok(await client.get("/command/get", headers=admin))["data"].startswith("-")
    assert set(ok(await client.get("/conf/get", headers=admin))["data"]) == {
        "base", "audio", "llm", "photo", "rag", "video"}
    ok(await client.post("/conf/update", json={"type": "llm", "key": "temperature", "value": 0.5}, headers=admin))
    # 4-8: MCP, with the methods the document gives
    config = {"type": "stdio", "command": sys.executable, "args": [str(TEST_SERVER_SCRIPT), "stdio"]}
    ok(await client.post("/mcp/update", params={"name": "server1"}, json=config, headers=admin))
    assert "server1" in ok(await client.get("/mcp/get", headers=admin))["data"]["mcpServers"]
    ok(await client.post("/mcp/disable", params={"name": "server1", "disable": "1"}, headers=admin))
    ok(await client.post("/mcp/disable", params={"name": "server1", "disable": "0"}, headers=admin))
    ok(await client.post("/mcp/sync", headers=admin))
    ok(await client.delete("/mcp/delete", params={"name": "server1"}, headers=admin))
