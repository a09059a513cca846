"""The whole app on a real uvicorn server: the scripted upstream asks for tools, the app runs them
(built-ins and the SDK test MCP server over stdio) and sends the results back."""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from switchboard.app.asgi import create_app
from switchboard.config.settings import ToolSettings
from tests.integration.native.conftest import ADMIN, Api, native_settings, parse_sse
from tests.support.live_server import LiveServer
from tests.support.mcp_servers import TEST_SERVER_SCRIPT
from tests.support.upstream import ScriptedUpstream

# the SDK test server (add, echo, pid, crash, slow, fail) as the config file would name it
TEST_MCP = {"t": {"command": sys.executable, "args": [str(TEST_SERVER_SCRIPT), "stdio"]}}

StartApp = Callable[..., Awaitable[Api]]


@pytest_asyncio.fixture
async def start_app(tmp_path: Path, upstream: ScriptedUpstream) -> AsyncIterator[StartApp]:
    """`api = await start_app(mcp=True, max_rounds=2, ...)`: a fresh app (ToolSettings fields as
    keywords), the admin logged in and a user `alice` registered and logged in."""
    apps = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(*, mcp: bool = False, **tools: Any) -> Api:
            settings = native_settings(
                tmp_path / f"app{next(apps)}", upstream, tools=ToolSettings(**tools),
                mcpServers=TEST_MCP if mcp else {},
            )
            base_url = await stack.enter_async_context(LiveServer(create_app(settings)))
            api = Api(await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30)))
            await api.login(ADMIN.username, ADMIN.password)
            await api.user("alice")
            return api

        yield start


async def stream_turn(api: Api, conversation_id: str, content: str = "go", **body: Any) -> list[tuple[str, Any]]:
    """One streamed turn as alice -> its SSE frames (comments dropped)."""
    payload = {"conversation_id": conversation_id, "content": content, **body}
    response = await api.client.post("/api/messages/stream", json=payload, headers=api.auth("alice"))
    assert response.status_code == 200, response.text
    return [(name, data) for name, data in parse_sse(response.text) if name != "comment"]


def events(frames: list[tuple[str, Any]], name: str) -> list[Any]:
    return [data for kind, data in frames if kind == name]


def offered(request_json: dict[str, Any]) -> list[str]:
    """The tool names one upstream request offered the model."""
    return [t["function"]["name"] for t in request_json.get("tools") or []]
