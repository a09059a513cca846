"""The agent loop end to end over HTTP: the scripted upstream calls tools, the app runs them and
sends the results back, every step is streamed and stored."""

from __future__ import annotations

import orjson

from tests.integration.tools_e2e.conftest import StartApp, events, offered, stream_turn
from tests.support.upstream import CHAT_PATH, Reply, ScriptedUpstream, ToolCallReply


def chat_requests(upstream: ScriptedUpstream) -> list[dict]:  # type: ignore[type-arg]
    return [r.json for r in upstream.requests if r.path == CHAT_PATH]


async def test_one_tool_call_is_run_streamed_stored_and_sent_back(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app()
    conversation = await api.conversation("alice")
    upstream.push(
        Reply(text="Let me compute. ", tool_calls=[ToolCallReply("calculate", '{"expression": "6*7"}', id="call_a")]),
        Reply(text="It is 42."),
    )

    frames = await stream_turn(api, conversation, "what is 6*7?")

    assert events(frames, "tool_call") == [
        {"id": "call_a", "name": "calculate", "arguments": {"expression": "6*7"},
         "message_id": events(frames, "start")[0]["message_id"]}]
    assert events(frames, "tool_result") == [
        {"id": "call_a", "name": "calculate", "result": "6*7 = 42", "is_error": False}]
    done = events(frames, "done")[0]
    assert done["content"] == "It is 42." and done["finish_reason"] == "stop"

    first, second = chat_requests(upstream)
    assert "calculate" in offered(first) and "fetch_page" in offered(first)
    call = {"name": "calculate", "arguments": '{"expression": "6*7"}'}
    assert second["messages"][-2:] == [
        {"role": "assistant", "content": "Let me compute. ",
         "tool_calls": [{"id": "call_a", "type": "function", "function": call}]},
        {"role": "tool", "tool_call_id": "call_a", "content": "6*7 = 42"},
    ]
    stored = await api.messages("alice", conversation)
    assert [(m["role"], m["status"]) for m in stored] == [
        ("user", "completed"), ("assistant", "completed"), ("tool", "completed"), ("assistant", "completed")]
    calling, result, answer = stored[1:]
    assert calling["content"] == "Let me compute. " and calling["tool_calls"][0]["name"] == "calculate"
    assert (result["tool_call_id"], result["name"], result["content"], result["error"]) == (
        "call_a", "calculate", "6*7 = 42", None)
    assert answer["content"] == "It is 42." and answer["id"] == done["message_id"]


async def test_parallel_calls_run_together_and_come_back_in_call_order(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app(mcp=True)
    conversation = await api.conversation("alice")
    upstream.push(
        Reply(tool_calls=[
            ToolCallReply("t__slow", '{"seconds": 0.5}', id="slow"),
            ToolCallReply("calculate", '{"expression": "2**10"}', id="calc"),
            ToolCallReply("t__add", '{"a": 2, "b": 3}', id="add"),
        ]),
        Reply(text="done"),
    )

    frames = await stream_turn(api, conversation)

    results = events(frames, "tool_result")
    # all three started before any finished, and the slow one, asked first, finished last
    assert [d["id"] for d in events(frames, "tool_call")] == ["slow", "calc", "add"]
    assert results[-1]["id"] == "slow" and {r["id"] for r in results} == {"slow", "calc", "add"}
    assert {r["id"]: r["result"] for r in results} == {"slow": "slept 0.5", "calc": "2**10 = 1024", "add": 5}
    tool_messages = [m for m in chat_requests(upstream)[1]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["slow", "calc", "add"]
    stored = [m for m in await api.messages("alice", conversation) if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in stored] == ["slow", "calc", "add"]


async def test_a_failing_tool_is_an_error_result_and_the_turn_goes_on(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app(mcp=True)
    conversation = await api.conversation("alice")
    upstream.push(
        Reply(tool_calls=[ToolCallReply("t__fail", '{"message": "disk on fire"}', id="f"),
                          ToolCallReply("calculate", '{"expression": "1/0"}', id="z")]),
        Reply(text="Both failed, sorry."),
    )

    frames = await stream_turn(api, conversation)

    results = {r["id"]: r for r in events(frames, "tool_result")}
    assert results["f"]["is_error"] and "disk on fire" in str(results["f"]["result"])
    assert results["z"]["is_error"]
    assert events(frames, "done")[0]["content"] == "Both failed, sorry."
    sent = {m["tool_call_id"]: m["content"] for m in chat_requests(upstream)[1]["messages"] if m["role"] == "tool"}
    assert "disk on fire" in sent["f"]
    stored = [m for m in await api.messages("alice", conversation) if m["role"] == "tool"]
    assert [m["error"] for m in stored] == ["tool error", "tool error"]


async def test_a_tool_that_takes_too_long_times_out_as_an_error_result(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app(mcp=True, mcp_call_timeout_seconds=0.5)
    conversation = await api.conversation("alice")
    upstream.push(Reply(tool_calls=[ToolCallReply("t__slow", '{"seconds": 30}', id="s")]), Reply(text="too slow"))

    frames = await stream_turn(api, conversation)

    (result,) = events(frames, "tool_result")
    assert result["is_error"] and "timed out" in result["result"]
    assert events(frames, "done")[0]["content"] == "too slow"


async def test_the_code_tool_is_held_to_its_time_and_memory_limits(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app(code_timeout_seconds=1, code_memory_mb=128, code_users=["alice"])
    conversation = await api.conversation("alice")
    loop = orjson.dumps({"code": "while True:\n    pass"}).decode()
    hog = orjson.dumps({"code": "block = bytearray(1024 ** 3)\nprint('allocated')"}).decode()
    upstream.push(Reply(tool_calls=[ToolCallReply("run_python", loop, id="loop"),
                                    ToolCallReply("run_python", hog, id="hog")]), Reply(text="ok"))

    frames = await stream_turn(api, conversation)

    results = {r["id"]: r for r in events(frames, "tool_result")}
    assert results["loop"]["is_error"] and "time limit of 1s exceeded" in results["loop"]["result"]
    assert results["hog"]["is_error"] and "MemoryError" in results["hog"]["result"]
    assert "allocated" not in results["hog"]["result"]


async def test_the_last_round_offers_no_tools(start_app: StartApp, upstream: ScriptedUpstream) -> None:
    api = await start_app(max_rounds=2)
    conversation = await api.conversation("alice")
    again = Reply(tool_calls=[ToolCallReply("calculate", '{"expression": "1+1"}')])
    upstream.push(again, again, Reply(text="I will stop now."))

    frames = await stream_turn(api, conversation)

    requests = chat_requests(upstream)
    assert len(requests) == 3
    assert offered(requests[0]) and offered(requests[1]) and "tools" not in requests[2]
    assert len(events(frames, "tool_result")) == 2
    assert events(frames, "done")[0]["content"] == "I will stop now."


async def test_a_call_to_an_unknown_tool_is_answered_with_an_error_result(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app()
    conversation = await api.conversation("alice")
    upstream.push(Reply(tool_calls=[ToolCallReply("launch_rockets", '{"count": 3}', id="r")]),
                  Reply(text="That tool does not exist."))

    frames = await stream_turn(api, conversation)

    assert events(frames, "tool_result") == [
        {"id": "r", "name": "launch_rockets", "result": "error: there is no tool named 'launch_rockets'",
         "is_error": True}]
    assert events(frames, "done")[0]["content"] == "That tool does not exist."
    assert chat_requests(upstream)[1]["messages"][-1]["content"] == "error: there is no tool named 'launch_rockets'"


async def test_no_tools_are_offered_when_tools_are_off(start_app: StartApp, upstream: ScriptedUpstream) -> None:
    api = await start_app()
    off = await api.conversation("alice", tools_enabled=False)
    on = await api.conversation("alice")

    await stream_turn(api, off)
    await stream_turn(api, on, tools_enabled=False)  # the message's switch wins over the conversation's
    await stream_turn(api, on)

    requests = chat_requests(upstream)
    assert ["tools" in r for r in requests] == [False, False, True]


async def test_an_mcp_tool_is_called_through_the_loop(start_app: StartApp, upstream: ScriptedUpstream) -> None:
    api = await start_app(mcp=True)
    conversation = await api.conversation("alice")
    upstream.push(Reply(tool_calls=[ToolCallReply("t__echo", '{"text": "ping"}', id="e")]), Reply(text="pong"))

    frames = await stream_turn(api, conversation)

    assert events(frames, "tool_result") == [{"id": "e", "name": "t__echo", "result": "ping", "is_error": False}]
    first = chat_requests(upstream)[0]
    assert {"t__add", "t__echo", "t__slow"} <= set(offered(first))


async def test_the_non_streaming_endpoint_runs_the_loop_too(start_app: StartApp, upstream: ScriptedUpstream) -> None:
    api = await start_app()
    conversation = await api.conversation("alice")
    upstream.push(Reply(tool_calls=[ToolCallReply("calculate", '{"expression": "3*3"}', id="c")]), Reply(text="9"))

    response = await api.client.post("/api/messages/", json={"conversation_id": conversation, "content": "3*3?"},
                                     headers=api.auth("alice"))

    assert response.status_code == 200, response.text
    assert response.json()["data"]["assistant_message"]["content"] == "9"
    roles = [m["role"] for m in await api.messages("alice", conversation)]
    assert roles == ["user", "assistant", "tool", "assistant"]


async def test_allow_lists_limit_what_the_model_is_offered(start_app: StartApp, upstream: ScriptedUpstream) -> None:
    # the administrator's list (a category and a name); alice may run code
    api = await start_app(allowed=["code", "fetch_page"], code_users=["alice"])
    conversation = await api.conversation("alice")
    await stream_turn(api, conversation)
    assert sorted(offered(chat_requests(upstream)[-1])) == ["calculate", "fetch_page", "run_python"]

    me = (await api.client.get("/api/auth/me", headers=api.auth("alice"))).json()["data"]
    patched = await api.client.patch(f"/api/admin/users/{me['id']}", json={"tools": ["calculate", "fetch_page"]},
                                     headers=api.auth("admin"))
    assert patched.status_code == 200 and patched.json()["data"]["tools"] == ["calculate", "fetch_page"]
    await stream_turn(api, conversation)
    assert sorted(offered(chat_requests(upstream)[-1])) == ["calculate", "fetch_page"]

    cleared = await api.client.patch(f"/api/admin/users/{me['id']}", json={"tools": None}, headers=api.auth("admin"))
    assert cleared.json()["data"]["tools"] is None
    await stream_turn(api, conversation)
    assert len(offered(chat_requests(upstream)[-1])) == 3
