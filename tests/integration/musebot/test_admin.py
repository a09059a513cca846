"""Quotas through /communicate, runtime settings (/conf/*, /command/get) and the MCP routes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from switchboard.config.settings import ToolSettings
from tests.integration.musebot.harness import Muse, Start
from tests.support.mcp_servers import TEST_SERVER_SCRIPT
from tests.support.upstream import Reply, ScriptedUpstream

NO_TOOLS = ToolSettings(allowed=[])  # small, predictable prompt estimates


async def test_quota_refusal_is_a_sentence_in_the_stream(start_musebot: Start, upstream: ScriptedUpstream) -> None:
    muse = await start_musebot(default_token_allowance=30, tools=NO_TOOLS)
    upstream.push(Reply(text="spent", usage=(20, 10)))
    assert (await muse.say("use it all")).text == "spent"
    refused = await muse.say("one more")
    assert refused.status_code == 200
    assert refused.text == (
        "⚠️ Your token allowance is used up (or too low for this request); ask an administrator for more.\n"
    )
    assert (await muse.say("/photo a fox")).text.startswith("⚠️ Your token allowance is used up")


async def test_concurrent_calls_of_one_user_never_overspend(start_musebot: Start, upstream: ScriptedUpstream) -> None:
    muse = await start_musebot(default_token_allowance=500, tools=NO_TOOLS)
    await muse.say("/help")  # the user exists before the race
    upstream.push(*[Reply(text="ok", usage=(40, 10), chunk_delay=0.01) for _ in range(30)])
    answers = await asyncio.gather(*(muse.say(f"question {i}") for i in range(30)))
    served = [a for a in answers if a.text == "ok"]
    refused = [a for a in answers if a.text.startswith("⚠️ Your token allowance")]
    assert len(served) + len(refused) == 30 and served and refused
    user = (await muse.get("/user/list", user_id="1001"))["data"]["list"][0]
    assert user["token"] == 50 * len(served) <= 500
    assert (await muse.say("/balance")).text.startswith(f"You have {500 - user['token']} tokens left")


async def test_conf_get_update_validation_and_command_flags(muse: Muse, upstream: ScriptedUpstream) -> None:
    conf = (await muse.get("/conf/get"))["data"]
    assert set(conf) == {"base", "audio", "llm", "photo", "rag", "video"}
    assert conf["llm"]["temperature"] is None and conf["photo"]["image_model"] == "gpt-image-1"
    here = f"-bot_name=Switchboard -http_host={muse.client.base_url.scheme}://{muse.client.base_url.netloc.decode()} "
    assert (await muse.get("/command/get"))["data"] == here
    changed = await muse.post("/conf/update", json={"type": "llm", "key": "temperature", "value": 0.3})
    assert changed == {"code": 0, "message": "success", "msg": "success", "data": ""}
    await muse.say("hi")
    assert upstream.last.json["temperature"] == 0.3
    await muse.post("/conf/update", json={"type": "photo", "key": "image_model", "value": "dall-e-3"})
    await muse.say("/photo a fox")
    assert upstream.last.json["model"] == "dall-e-3"
    for bad in ({"type": "llm", "key": "temperature", "value": "warm"},
                {"type": "llm", "key": "temperature", "value": 9},
                {"type": "llm", "key": "max_tokens", "value": {"a": 1}},
                {"type": "llm", "key": "nonsense", "value": 1},
                {"type": "nope", "key": "x", "value": 1},
                {"type": "rag", "key": "rag_enabled", "value": True}):
        refused = await muse.post("/conf/update", json=bad)
        assert refused["code"] == 210009 and refused["data"] is None, bad
    assert (await muse.post("/conf/update", json={"type": "llm"}))["code"] == 210009
    assert (await muse.get("/conf/get"))["data"]["llm"]["temperature"] == 0.3
    assert (await muse.get("/command/get"))["data"] == here + "-temperature=0.3 -image_model=dall-e-3 "


async def test_conf_changes_survive_a_restart(start_musebot: Start, tmp_path: Path) -> None:
    first = await start_musebot(data_dir=tmp_path / "kept")
    await first.post("/conf/update", json={"type": "video", "key": "video_poll_seconds", "value": "0.5"})
    await first.post("/conf/update", json={"type": "base", "key": "registration", "value": "closed"})
    refused = await first.client.post("/api/auth/register", json={"username": "zed", "password": "password1"})
    assert refused.status_code == 403
    again = await start_musebot(data_dir=tmp_path / "kept")
    conf = (await again.get("/conf/get"))["data"]
    assert conf["video"]["video_poll_seconds"] == 0.5 and conf["base"]["registration"] == "closed"


async def test_admin_routes_refuse_plain_keys(muse: Muse) -> None:
    await muse.key("alice")
    for path in ("/conf/get", "/command/get", "/mcp/get"):
        assert (await muse.get(path, who="alice"))["code"] == 210403
    assert (await muse.post("/conf/update", who="alice", json={"type": "llm", "key": "max_tokens",
                                                               "value": 5}))["code"] == 210403
    assert (await muse.post("/mcp/sync", who="alice"))["code"] == 210403


async def test_mcp_routes_manage_servers(muse: Muse) -> None:
    assert (await muse.get("/mcp/get"))["data"] == {"mcpServers": {}, "McpServers": {}}
    entry = {"command": sys.executable, "args": [str(TEST_SERVER_SCRIPT), "stdio"], "description": "test"}
    assert (await muse.post("/mcp/update", json=entry, name="sdk"))["code"] == 0
    servers = (await muse.get("/mcp/get"))["data"]["mcpServers"]
    assert servers["sdk"]["command"] == sys.executable and servers["sdk"]["status"] == "connected"
    assert servers["sdk"]["disabled"] is False and servers["sdk"]["tool_count"] > 0
    assert (await muse.post("/mcp/disable", name="sdk", disable="1"))["code"] == 0
    assert (await muse.get("/mcp/get"))["data"]["mcpServers"]["sdk"]["status"] == "disabled"
    assert (await muse.post("/mcp/disable", name="sdk", disable="0"))["code"] == 0
    assert (await muse.post("/mcp/sync"))["code"] == 0
    assert (await muse.get("/mcp/get"))["data"]["mcpServers"]["sdk"]["status"] == "connected"
    bad = await muse.post("/mcp/update", json={"args": ["x"]}, name="broken")
    assert bad["code"] == 210009 and "needs a url" in bad["message"]
    assert (await muse.post("/mcp/update", json=entry))["code"] == 210009  # no name
    deleted = await muse.client.delete("/mcp/delete", params={"name": "sdk"}, headers=muse.auth("admin"))
    assert deleted.json()["code"] == 0
    assert (await muse.get("/mcp/get"))["data"]["mcpServers"] == {}
    missing = await muse.client.delete("/mcp/delete", params={"name": "sdk"}, headers=muse.auth("admin"))
    assert missing.json()["code"] == 0  # as MuseBot: deleting a name it does not have is no error
