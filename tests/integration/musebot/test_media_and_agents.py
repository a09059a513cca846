"""/photo, /video, voice prompts, /task and /mcp against the scripted image, audio, video and chat routes."""

from __future__ import annotations

import base64
import logging
import sys

import orjson
import pytest

from tests.integration.musebot.harness import Muse, Start
from tests.support.mcp_servers import TEST_SERVER_SCRIPT
from tests.support.upstream import PNG_PIXEL, VIDEO_BYTES, Reply, ScriptedUpstream, ToolCallReply

PNG_URI = "data:image/png;base64," + base64.b64encode(PNG_PIXEL).decode()
OGG = b"OggS\x00\x02" + b"\x00" * 40


async def test_photo_generates_and_edits(muse: Muse, upstream: ScriptedUpstream) -> None:
    made = await muse.say("/photo a red fox")
    assert made.text == PNG_URI
    assert upstream.last.path == "/v1/images/generations"
    assert upstream.last.json["prompt"] == "a red fox" and upstream.last.json["model"] == "gpt-image-1"
    edited = await muse.say("/photo make it blue", body=PNG_PIXEL)
    assert edited.text == PNG_URI
    assert upstream.last.path == "/v1/images/edits" and upstream.last.form["prompt"] == "make it blue"
    records = (await muse.get("/record/list", user_id="1001", record_type=1))["data"]
    assert records["total"] == 2
    assert records["list"][0]["answer"] == PNG_URI and records["list"][0]["content"] == PNG_URI
    assert records["list"][1]["content"] == "" and records["list"][0]["token"] > 0
    assert (await muse.say("/photo")).text.startswith("Please describe the picture")


async def test_video_writes_only_the_data_uri_and_logs_the_progress(
        muse: Muse, upstream: ScriptedUpstream, caplog: pytest.LogCaptureFixture) -> None:
    """MuseBot's UIs tell a video by the `data:video/` prefix of the whole answer (robot/web.go)."""
    upstream.video_steps = 2
    with caplog.at_level(logging.INFO, logger="switchboard.core.services.commands.media"):
        made = await muse.say("/video waves at dusk")
    video_uri = "data:video/mp4;base64," + base64.b64encode(VIDEO_BYTES).decode()
    assert made.text == video_uri
    progress = [r.getMessage() for r in caplog.records if "video job" in r.getMessage()]
    assert "started for user" in progress[0] and progress[-1].endswith("completed 100%")
    assert [r.path.rsplit("/", 1)[-1] for r in upstream.requests][-1] == "content"
    records = (await muse.get("/record/list", user_id="1001", record_type=2))["data"]
    assert records["total"] == 1 and records["list"][0]["answer"] == video_uri


async def test_video_without_a_provider_says_so(start_musebot: Start) -> None:
    offline = await start_musebot(providers=[], default_model="echo")
    answer = await offline.say("/video a cat")
    assert answer.text.startswith("No video provider is configured")
    await offline.post("/conf/update", json={"type": "video", "key": "video_model", "value": ""})
    assert (await offline.say("/video a cat")).text.startswith("No video provider is configured")


async def test_audio_body_is_transcribed_into_the_prompt(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="what is the weather"), path="/v1/audio/transcriptions")
    upstream.push(Reply(text="Sunny."))
    answer = await muse.say("", body=OGG)
    assert answer.text == "Sunny."
    transcription = next(r for r in upstream.requests if r.path == "/v1/audio/transcriptions")
    assert transcription.form["model"] == "whisper-1" and transcription.form["file"].data == OGG
    question = upstream.last.json["messages"][-1]["content"]
    assert question[0] == {"type": "text", "text": "what is the weather"}
    assert upstream.last.json["stream"] is True  # /communicate streams its answer
    record = (await muse.get("/record/list", user_id="1001"))["data"]["list"][0]
    assert record["content"] == "data:audio/ogg;base64," + base64.b64encode(OGG).decode()


async def test_task_plans_runs_steps_with_tools_and_sums_up(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(
        Reply(text='["Compute 6*7", "Report it"]'),
        Reply(tool_calls=[ToolCallReply("calculate", '{"expression": "6*7"}')]),
        Reply(text="6*7 is 42."),
        Reply(text="Reported."),
        Reply(text="The answer is 42."),
    )
    done = await muse.say("/task what is six times seven")
    assert done.text.startswith("🧭 Planning…\n📋 Plan:\n1. Compute 6*7\n2. Report it\n")
    assert "▶ Step 1/2: Compute 6*7\n" in done.text and "\n🔧 calculate\n" in done.text
    assert "6*7 is 42." in done.text and "▶ Step 2/2: Report it\nReported." in done.text
    assert done.text.endswith("✅ Final answer:\nThe answer is 42.\n")
    tool_result = [m for m in upstream.requests[-3].json["messages"] if m["role"] == "tool"]
    assert "42" in tool_result[0]["content"]
    # the plan is read, never shown: asked for whole; the steps stream to the MuseBot client
    assert [r.json["stream"] for r in upstream.requests] == [False, True, True, True, True]
    record = (await muse.get("/record/list", user_id="1001"))["data"]["list"][0]
    assert record["question"] == "/task what is six times seven" and record["answer"] == done.text
    assert record["token"] > 0


async def test_mcp_agent_acts_with_mcp_tools(start_musebot: Start, upstream: ScriptedUpstream) -> None:
    server = {"command": sys.executable, "args": [str(TEST_SERVER_SCRIPT), "stdio"]}
    muse = await start_musebot(mcpServers={"sdk": server})
    upstream.push(
        Reply(text='["Add 2 and 3"]'),
        Reply(tool_calls=[ToolCallReply("sdk__add", '{"a": 2, "b": 3}')]),
        Reply(text="It is 5."),
        Reply(text="2 + 3 = 5"),
    )
    done = await muse.say("/mcp add two and three")
    assert "\n🔧 sdk__add\n" in done.text and done.text.endswith("✅ Final answer:\n2 + 3 = 5\n")
    planner = upstream.requests[-4].json["messages"]
    assert "sdk__add" in planner[-1]["content"] and "tools" not in upstream.requests[-4].json
    results = [m for m in upstream.requests[-2].json["messages"] if m["role"] == "tool"]
    assert orjson.loads(results[0]["content"]) == 5 or results[0]["content"].strip() == "5"


async def test_mcp_agent_without_servers(muse: Muse) -> None:
    assert (await muse.say("/mcp do it")).text.startswith("No MCP tools are connected")
    assert (await muse.say("/task")).text == "Please describe the task after /task.\n"
