"""An MCP server that crashes mid-turn: the turn still ends well, and the server comes back."""

from __future__ import annotations

import asyncio

from tests.integration.tools_e2e.conftest import StartApp, events, stream_turn
from tests.support.mcp_servers import pid_alive
from tests.support.upstream import Reply, ScriptedUpstream, ToolCallReply


async def test_a_crashed_server_does_not_break_the_turn_and_serves_again_afterwards(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app(mcp=True)
    conversation = await api.conversation("alice")
    upstream.push(
        Reply(tool_calls=[ToolCallReply("t__pid", id="pid")]),
        Reply(tool_calls=[ToolCallReply("t__crash", id="crash")]),
        # asked once the process is gone: either the call reconnects and retries, or it is a readable error
        Reply(tool_calls=[ToolCallReply("t__echo", '{"text": "still there?"}', id="echo")], first_byte_delay=0.3),
        Reply(text="The server had a hiccup."),
    )

    frames = await stream_turn(api, conversation)

    results = {r["id"]: r for r in events(frames, "tool_result")}
    first_pid = results["pid"]["result"]
    assert isinstance(first_pid, int) and not results["pid"]["is_error"]
    echo = results["echo"]
    assert echo["result"] == "still there?" or (echo["is_error"] and "MCP server 't'" in echo["result"]), echo
    assert events(frames, "done")[0]["content"] == "The server had a hiccup."

    for _ in range(500):  # the old process is gone and the server is connected again
        status = (await api.client.get("/api/admin/mcp", headers=api.auth("admin"))).json()["data"][0]
        if not pid_alive(first_pid) and status["state"] == "connected":
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError(f"the server did not come back: {status}")

    upstream.push(Reply(tool_calls=[ToolCallReply("t__pid", id="pid2")]), Reply(text="back"))
    frames = await stream_turn(api, conversation, "again")

    (again,) = events(frames, "tool_result")
    assert not again["is_error"] and isinstance(again["result"], int) and again["result"] != first_pid
