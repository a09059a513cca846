"""Golden Mio-Chat frame sequences (seed 000 + the real backend's union) over a real WebSocket."""

from __future__ import annotations

import asyncio

import pytest

from tests.contract.miochat.golden import replay
from tests.integration.miochat.conftest import Open, Start, logged_in
from tests.support.upstream import ScriptedUpstream


@pytest.mark.parametrize("name", ["plain_answer.json", "tool_answer.json", "failure.json", "system.json"])
async def test_golden_sequences(name: str, start_mio: Start, open_ws: Open, upstream: ScriptedUpstream) -> None:
    mio = await start_mio()
    ws = await logged_in(mio, open_ws, "alice")
    await replay(name, ws, upstream)


async def test_plain_answer_sends_the_clients_history_and_options_upstream(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    await replay("plain_answer.json", await logged_in(mio, open_ws, "alice"), upstream)
    sent = upstream.last.json
    assert sent["messages"] == [
        {"role": "system", "content": "你是一个机器人，回答用户的问题"},
        {"role": "user", "content": "你好，你是我的助手"},
        {"role": "assistant", "content": "你好，我是你的助手，有什么可以帮助你吗？"},
        {"role": "user", "content": "say hello"},
    ]
    assert (sent["temperature"], sent["top_p"], sent["presence_penalty"], sent["frequency_penalty"]) == (0.5, 1, 0, 0)


async def test_interrupt_stops_the_turn_and_keeps_the_partial_answer(
    start_mio: Start, open_ws: Open, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    ws = await logged_in(mio, open_ws, "alice")
    await replay("interrupt.json", ws, upstream)
    await upstream.wait_disconnect()
    auth = {"Authorization": f"Bearer {mio.keys['alice']}"}
    conversations = await mio.api.client.get("/api/conversations", headers=auth)
    conversation = conversations.json()["data"]["items"][0]["id"]
    for _ in range(100):
        messages = (await mio.api.client.get(f"/api/messages/{conversation}", headers=auth)).json()["data"]
        if messages[-1]["status"] == "interrupted":
            break
        await asyncio.sleep(0.05)
    assert [(m["role"], m["status"]) for m in messages] == [("user", "completed"), ("assistant", "interrupted")]
    assert messages[-1]["content"].startswith("one")
