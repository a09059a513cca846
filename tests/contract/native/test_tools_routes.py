"""/api/tools with MCP tools and allow-lists, and the administrator's /api/admin/mcp routes (the
built-in tools' wire format is in fixtures/tools.json, replayed by test_golden)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from switchboard.app.asgi import create_app
from tests.contract.native.conftest import ADMIN, Native, contract_settings, login
from tests.support.mcp_servers import TEST_SERVER_SCRIPT

SERVER = {"command": sys.executable, "args": [str(TEST_SERVER_SCRIPT), "stdio"]}
TEST_TOOLS = ["t__add", "t__echo", "t__pid", "t__crash", "t__slow", "t__fail"]

OpenApp = Callable[..., Awaitable[Native]]


@pytest_asyncio.fixture
async def open_app(tmp_path: Path) -> AsyncIterator[OpenApp]:
    """`native = await open_app(mcpServers={...})`: an app on tmp_path (the same data for every call,
    so a second app sees what the first saved), the admin and alice logged in."""
    async with contextlib.AsyncExitStack() as stack:

        async def open_(**settings: Any) -> Native:
            app = create_app(contract_settings(tmp_path, **settings))
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver"))
            saved: dict[str, Any] = {}
            await login(client, saved, ADMIN.username, ADMIN.password)
            registered = await client.post("/api/auth/register", json={"username": "alice", "password": "password1"})
            assert registered.status_code in (201, 409), registered.text
            await login(client, saved, "alice", "password1")
            return Native(app, client, saved)

        yield open_


async def call(native: Native, who: str, method: str, path: str, json: Any = None) -> tuple[int, Any]:
    response = await native.client.request(method, path, json=json, headers=native.auth(who))
    return response.status_code, response.json()


async def tool_names(native: Native, who: str = "alice", category: str | None = None) -> list[str]:
    status, body = await call(native, who, "GET", "/api/tools/" + (f"?category={category}" if category else ""))
    assert status == 200, body
    assert body["data"]["total"] == len(body["data"]["tools"])
    return [t["name"] for t in body["data"]["tools"]]


ADMIN_ROUTES = [
    ("GET", "/api/admin/mcp", None),
    ("PUT", "/api/admin/mcp/t", SERVER),
    ("POST", "/api/admin/mcp/t/disable", None),
    ("POST", "/api/admin/mcp/t/enable", None),
    ("DELETE", "/api/admin/mcp/t", None),
    ("POST", "/api/admin/mcp/reconnect", None),
]

BAD_ENTRIES = [
    ("t", {"command": " ", "args": ["x"]}, "MCP server 't': a stdio MCP server needs a command"),
    ("t", {"args": ["x"]}, "MCP server 't': an http MCP server needs a url"),
    ("t", {"type": "carrier-pigeon", "url": "http://example.com"}, "MCP server 't': unknown MCP transport"),
    ("t", {"type": "sse"}, "MCP server 't': an sse MCP server needs a url"),
    ("bad name!", SERVER, "an MCP server name is 1-40 letters"),
]


async def test_mcp_administration_is_for_administrators(native: Native) -> None:
    for method, path, body in ADMIN_ROUTES:
        status, answer = await call(native, "alice", method, path, body)
        assert (status, answer["success"], answer["code"]) == (403, False, "forbidden"), (method, path)
        response = await native.client.request(method, path, json=body)
        assert response.status_code == 401, (method, path)
    assert (await call(native, "admin", "GET", "/api/admin/mcp"))[1]["data"] == []


async def test_an_mcp_server_added_at_runtime_serves_its_tools_until_disabled_or_deleted(open_app: OpenApp) -> None:
    native = await open_app()
    assert await call(native, "admin", "GET", "/api/admin/mcp") == (200, {"success": True, "data": []})

    status, body = await call(native, "admin", "PUT", "/api/admin/mcp/t", {**SERVER, "description": "test server"})
    assert status == 200, body
    assert body["data"] == {
        "name": "t", "transport": "stdio", "state": "connected", "error": None, "tool_count": 6,
        "config": {**SERVER, "description": "test server"}, "tools": TEST_TOOLS,
    }
    assert await tool_names(native, category="mcp") == TEST_TOOLS
    status, detail = await call(native, "alice", "GET", "/api/tools/t__add")
    assert detail["data"]["category"] == "mcp" and detail["data"]["source"] == "mcp:t"
    assert detail["data"]["parameters"]["required"] == ["a", "b"]
    status, ran = await call(native, "alice", "POST", "/api/tools/t__add/execute", {"a": 2, "b": 40})
    assert (status, ran["data"]["result"], ran["data"]["is_error"]) == (200, 42, False)
    status, refused = await call(native, "alice", "POST", "/api/tools/t__add/execute", {"a": 2, "b": "forty"})
    assert (status, refused["message"]) == (422, "t__add: invalid argument 'b': 'forty' is not of type 'integer'")

    status, body = await call(native, "admin", "POST", "/api/admin/mcp/t/disable")
    assert (status, body["data"]["state"], body["data"]["tools"]) == (200, "disabled", [])
    assert await tool_names(native, category="mcp") == []
    status, gone = await call(native, "alice", "POST", "/api/tools/t__add/execute", {"a": 1, "b": 1})
    assert status == 404, gone

    status, body = await call(native, "admin", "POST", "/api/admin/mcp/t/enable")
    assert (status, body["data"]["state"], body["data"]["tool_count"]) == (200, "connected", 6)
    assert await tool_names(native, category="mcp") == TEST_TOOLS

    status, body = await call(native, "admin", "DELETE", "/api/admin/mcp/t")
    assert (status, body) == (200, {"success": True, "message": "MCP server deleted"})
    assert await tool_names(native, category="mcp") == []
    assert (await call(native, "admin", "GET", "/api/admin/mcp"))[1]["data"] == []
    status, body = await call(native, "admin", "DELETE", "/api/admin/mcp/t")
    assert (status, body["code"]) == (404, "not_found")
    status, body = await call(native, "admin", "POST", "/api/admin/mcp/t/disable")
    assert (status, body["code"]) == (404, "not_found")


async def test_reconnect_all_starts_fresh_sessions(open_app: OpenApp) -> None:
    native = await open_app(mcpServers={"t": SERVER})
    before = (await call(native, "alice", "POST", "/api/tools/t__pid/execute", {}))[1]["data"]["result"]

    status, body = await call(native, "admin", "POST", "/api/admin/mcp/reconnect")

    assert status == 200 and body["message"] == "MCP servers reconnected"
    assert [(s["name"], s["state"], s["tool_count"]) for s in body["data"]] == [("t", "connected", 6)]
    after = (await call(native, "alice", "POST", "/api/tools/t__pid/execute", {}))[1]["data"]["result"]
    assert isinstance(before, int) and isinstance(after, int) and after != before


async def test_a_bad_server_entry_is_refused_with_a_reason(native: Native) -> None:
    for name, body, message in BAD_ENTRIES:
        status, answer = await call(native, "admin", "PUT", f"/api/admin/mcp/{name}", body)
        assert (status, answer["success"], answer["code"]) == (400, False, "invalid_input"), body
        assert answer["message"].startswith(message), answer["message"]
    assert (await call(native, "admin", "GET", "/api/admin/mcp"))[1]["data"] == []


async def test_runtime_edits_outlive_a_restart_and_win_over_the_config_file(open_app: OpenApp) -> None:
    file_servers = {"dropped": SERVER, "muted": SERVER}
    first = await open_app(mcpServers=file_servers)
    assert [s["name"] for s in (await call(first, "admin", "GET", "/api/admin/mcp"))[1]["data"]] == [
        "dropped", "muted"]
    assert (await call(first, "admin", "PUT", "/api/admin/mcp/added", SERVER))[0] == 200
    assert (await call(first, "admin", "DELETE", "/api/admin/mcp/dropped"))[0] == 200
    assert (await call(first, "admin", "POST", "/api/admin/mcp/muted/disable"))[0] == 200

    second = await open_app(mcpServers=file_servers)  # same data directory, same config file

    status, body = await call(second, "admin", "GET", "/api/admin/mcp")
    assert status == 200
    assert [(s["name"], s["state"]) for s in body["data"]] == [
        ("added", "connected"), ("muted", "disabled")]
    assert "added__echo" in await tool_names(second, category="mcp")


async def test_a_users_allow_list_limits_the_tools_they_see_and_run(native: Native) -> None:
    alice = native.saved["alice_id"]
    status, body = await call(native, "admin", "PATCH", f"/api/admin/users/{alice}", {"tools": ["calculate", "data"]})
    assert (status, body["data"]["tools"]) == (200, ["calculate", "data"])

    assert await tool_names(native) == ["calculate", "query_data", "column_stats"]
    assert len(await tool_names(native, "bob")) == 8
    status, body = await call(native, "alice", "POST", "/api/tools/run_python/execute", {"code": "print(1)"})
    assert (status, body["code"]) == (404, "not_found")
    status, body = await call(native, "alice", "POST", "/api/tools/calculate/execute", {"expression": "1+1"})
    assert (status, body["data"]["result"]) == (200, "1+1 = 2")

    status, body = await call(native, "admin", "PATCH", f"/api/admin/users/{alice}", {"is_active": True})
    assert body["data"]["tools"] == ["calculate", "data"]  # left alone when not sent
    status, body = await call(native, "admin", "PATCH", f"/api/admin/users/{alice}", {"tools": None})
    assert (status, body["data"]["tools"]) == (200, None)
    assert len(await tool_names(native)) == 8


async def test_mcp_secrets_are_masked_in_answers_and_kept_on_a_round_trip(open_app: OpenApp) -> None:
    native = await open_app()
    entry = {**SERVER, "env": {"API_TOKEN": "s3cret", "REGION": "eu"}}
    status, body = await call(native, "admin", "PUT", "/api/admin/mcp/t", entry)
    assert status == 200, body
    assert body["data"]["config"]["env"] == {"API_TOKEN": "***", "REGION": "***"}
    status, body = await call(native, "admin", "GET", "/api/admin/mcp")
    assert "s3cret" not in str(body)

    # an admin edits the entry as shown (masked values) and changes one value: the rest is kept
    edited = {**SERVER, "env": {"API_TOKEN": "***", "REGION": "us"}, "description": "edited"}
    status, body = await call(native, "admin", "PUT", "/api/admin/mcp/t", edited)
    assert status == 200, body
    async with native.app.state.runtime.uow.read() as tx:
        stored = await tx.settings.get("mcpServers")
    assert stored["t"]["env"] == {"API_TOKEN": "s3cret", "REGION": "us"}
