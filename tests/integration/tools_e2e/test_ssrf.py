"""A model cannot make the server fetch from its own network: fetch_page through the agent loop."""

from __future__ import annotations

import orjson

from tests.integration.tools_e2e.conftest import StartApp, events, stream_turn
from tests.support.upstream import Reply, ScriptedUpstream, ToolCallReply


def fetch(url: str, call_id: str) -> ToolCallReply:
    return ToolCallReply("fetch_page", orjson.dumps({"url": url}).decode(), id=call_id)


async def test_private_addresses_are_refused_and_never_contacted(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app()
    conversation = await api.conversation("alice")
    port = upstream.port
    upstream.push(
        Reply(tool_calls=[
            fetch(f"http://127.0.0.1:{port}/probe-loopback", "loopback"),
            fetch(f"http://localhost:{port}/probe-dns", "dns"),  # a name that resolves to 127.0.0.1
            fetch(f"http://[::1]:{port}/probe-v6", "v6"),
            fetch("http://10.0.0.1/probe-private", "private"),
            fetch("http://169.254.169.254/latest/meta-data/", "metadata"),
        ]),
        Reply(text="I cannot reach those."),
    )

    frames = await stream_turn(api, conversation)

    results = {r["id"]: r for r in events(frames, "tool_result")}
    assert set(results) == {"loopback", "dns", "v6", "private", "metadata"}
    for call_id, result in results.items():
        assert result["is_error"], call_id
        assert "private or reserved network address" in result["result"], (call_id, result["result"])
    assert not [r.path for r in upstream.requests if r.path.startswith("/probe")]
    assert events(frames, "done")[0]["content"] == "I cannot reach those."


async def test_the_admin_switch_lets_the_crawler_reach_private_addresses(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app(allow_private_network=True)
    conversation = await api.conversation("alice")
    upstream.push(Reply(tool_calls=[fetch(f"http://127.0.0.1:{upstream.port}/v1/models", "inside")]),
                  Reply(text="fetched"))

    frames = await stream_turn(api, conversation)

    (result,) = events(frames, "tool_result")
    assert not result["is_error"], result
    assert [r.path for r in upstream.requests if r.method == "GET"] == ["/v1/models"]
