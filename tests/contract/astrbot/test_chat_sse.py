"""POST /api/v1/chat: AstrBot's SSE stream, compared with golden files of AstrBot's format."""

from __future__ import annotations

from switchboard.core.domain import events as ev
from switchboard.faces.astrbot.stream import AstrBotEvents, encode_sse
from tests.contract.astrbot.golden import check
from tests.contract.astrbot.harness import MODEL, Start, data_events
from tests.support.upstream import Reply, ScriptedUpstream, ToolCallReply


async def test_plain_text_stream(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(text="Hello world", usage=(12, 3)))

    response, raw = await astr.chat({"message": "Hello", "username": "alice", "session_id": "my_session_001"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    check("chat_plain.sse", raw)
    events = data_events(raw)
    stats = next(e for e in events if e["type"] == "agent_stats")["data"]
    assert stats["token_usage"] == {"input_other": 12, "input_cached": 0, "output": 3}
    assert stats["start_time"] <= stats["end_time"] and 0 < stats["time_to_first_token"] < 10
    assert len({e["message_id"] for e in events if "message_id" in e}) == 1
    assert upstream.last.json["messages"][-1] == {"role": "user", "content": "Hello"}


async def test_reasoning_then_text(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(reasoning="Let me think", text="Hi there", usage=(5, 4)))

    _, raw = await astr.chat({"message": "Hi", "username": "alice", "session_id": "s-reasoning"})

    check("chat_reasoning.sse", raw)
    complete = next(e for e in data_events(raw) if e["type"] == "complete")
    assert (complete["data"], complete["reasoning"]) == ("Hi there", "Let me think")


async def test_tool_call_and_result(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(
        Reply(tool_calls=[ToolCallReply("calculate", '{"expression": "6*7"}', id="call_1")], usage=(20, 5)),
        Reply(text="It is 42.", usage=(30, 4)),
    )

    _, raw = await astr.chat({"message": "6*7?", "username": "alice", "session_id": "s-tools"})

    check("chat_tools.sse", raw)
    plain = [e for e in data_events(raw) if e["type"] == "plain"]
    call, result = (e for e in plain if e["chain_type"] in ("tool_call", "tool_call_result"))
    assert call["streaming"] is False and isinstance(call["data"], str)
    assert '"name": "calculate"' in call["data"] and '"args": {"expression": "6*7"}' in call["data"]
    assert '"result": "6*7 = 42"' in result["data"]


async def test_non_streaming_sends_each_message_whole(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(reasoning="Hmm", text="Hello world", usage=(12, 3)))

    _, raw = await astr.chat({"message": "Hello", "username": "alice", "session_id": "s-whole",
                              "enable_streaming": False})

    check("chat_non_streaming.sse", raw)
    kinds = [e["type"] for e in data_events(raw)]
    assert "complete" not in kinds


async def test_image_attachment_reaches_the_model_as_an_image_part(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    astr = await start_astrbot()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    files = {"file": ("cat.png", png, "image/png")}
    uploaded = await astr.client.post("/api/v1/file", headers=astr.auth(), files=files)
    attachment = uploaded.json()["data"]["attachment_id"]
    upstream.push(Reply(text="A cat.", usage=(50, 2)))

    _, raw = await astr.chat({"username": "alice", "session_id": "s-img", "message": [
        {"type": "plain", "text": "What is this?"}, {"type": "image", "attachment_id": attachment}]})

    assert [e["type"] for e in data_events(raw)][-1] == "end"
    content = upstream.last.json["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "What is this?"}
    assert content[1]["type"] == "image_url" and content[1]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_selected_model_and_session_alias(start_astrbot: Start, upstream: ScriptedUpstream) -> None:
    astr = await start_astrbot()
    upstream.push(Reply(text="ok"))
    _, raw = await astr.chat({"message": "hi", "username": "alice", "conversation_id": "alias-1",
                              "selected_provider": "openai_chat_completion", "selected_model": "gpt-other"})
    assert data_events(raw)[0] == {"type": "session_id", "data": None, "session_id": "alias-1"}
    assert upstream.last.json["model"] == "gpt-other"
    upstream.push(Reply(text="ok"))
    _, raw = await astr.chat({"message": "hi", "username": "alice"})
    generated = data_events(raw)[0]["session_id"]
    assert len(generated) == 36 and generated.count("-") == 4  # a UUID, as AstrBot makes them
    assert upstream.last.json["model"] == MODEL


async def test_a_failed_model_call_reaches_the_client_as_astrbot_sends_it(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    """AstrBot puts the error text into the chat as the bot's message and ends the stream as
    always (`complete`, `message_saved`, `end`); the `error` event stays for newer clients."""
    astr = await start_astrbot()
    upstream.push(Reply(status=500))
    _, raw = await astr.chat({"message": "hi", "username": "alice", "session_id": "s-fail"})
    check("chat_failed.sse", raw)
    events = data_events(raw)
    assert [e["type"] for e in events] == ["session_id", "user_message_saved", "plain", "error", "complete",
                                           "message_saved", "end"]
    plain, error, complete = events[2], events[3], events[4]
    assert plain["chain_type"] is None and plain["data"] == error["data"] == complete["data"] and "500" in plain["data"]
    upstream.push(Reply(status=500))
    _, raw = await astr.chat({"message": "hi", "username": "alice", "session_id": "s-fail", "enable_streaming": False})
    assert [e["type"] for e in data_events(raw)][2:] == ["plain", "error", "message_saved", "end"]


async def test_stats_come_before_complete_and_count_the_last_requests_context(
    start_astrbot: Start, upstream: ScriptedUpstream
) -> None:
    """agent_stats, then complete: AstrBot's order; current_context_tokens is how full the context
    is now (the last request's input), while token_usage sums every round."""
    astr = await start_astrbot()
    upstream.push(Reply(tool_calls=[ToolCallReply("calculate", '{"expression": "1+1"}', id="c1")], usage=(20, 5)),
                  Reply(text="2", usage=(30, 1)))
    _, raw = await astr.chat({"message": "1+1?", "username": "alice", "session_id": "s-stats"})
    kinds = [e["type"] for e in data_events(raw)]
    assert kinds[-4:] == ["agent_stats", "complete", "message_saved", "end"]
    stats = next(e for e in data_events(raw) if e["type"] == "agent_stats")["data"]
    assert stats["current_context_tokens"] == 30
    assert stats["token_usage"] == {"input_other": 50, "input_cached": 0, "output": 6}


def test_attachments_the_model_produces_render_as_astrbot_media_events() -> None:
    renderer = AstrBotEvents("m-1", streaming=True, started_at=1.0)
    frames = [
        *renderer.render(ev.Attachment("file_a", "image", "image/png")),
        *renderer.render(ev.Attachment("file_b", "audio", "audio/wav")),
        *renderer.render(ev.Attachment("file_c", "file", "application/pdf", "report.pdf")),
        *renderer.render(ev.Attachment("file_d", "video", "video/mp4")),
    ]
    check("media_events.sse", b"".join(encode_sse(f) for f in frames).decode())
