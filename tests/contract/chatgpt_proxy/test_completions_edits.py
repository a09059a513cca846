"""POST /openai/completions and /openai/edits: plain, /stream (NDJSON) and /sse, against goldens."""

from __future__ import annotations

import pytest

from tests.contract.chatgpt_proxy.conftest import MODEL, Proxy, assert_golden, lines
from tests.support.upstream import Reply, ScriptedUpstream

SEED_PIECES = ["\n", "\n", "This", " is", " a", " test", "."]
COMPLETION = {"model": "text-davinci-003", "prompt": "Say this is a test", "max_tokens": 16, "temperature": 1}
EDIT = {"model": "text-davinci-edit-001", "input": "What day of the wek is it?",
        "instruction": "Fix the spelling mistakes", "temperature": 1}


async def test_completions_plain(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="\n\nThis is indeed a test."))
    response = await proxy.post("/openai/completions", {**COMPLETION, "n": 1})
    assert response.status_code == 200
    assert_golden("completions.json", response)
    sent = upstream.last.json
    # the legacy model is answered by the configured chat model, with the caller's sampling
    assert sent["model"] == MODEL and sent["temperature"] == 1 and sent["max_tokens"] == 16
    assert sent["messages"] == [{"role": "user", "content": "Say this is a test"}]
    assert "tools" not in sent


async def test_completions_plain_n_gives_several_choices(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="one"), Reply(text="one"), Reply(text="one"))
    response = await proxy.post("/openai/completions", {**COMPLETION, "n": 3})
    assert response.status_code == 200
    assert response.json() == {"code": 0, "data": ["one", "one", "one"], "message": "响应成功"}
    assert len([r for r in upstream.requests if r.path == "/v1/chat/completions"]) == 3


@pytest.mark.parametrize(("suffix", "golden"), [("/stream", "completions_stream.ndjson"),
                                                 ("/sse", "completions_sse.sse")])
async def test_completions_streamed(proxy: Proxy, upstream: ScriptedUpstream, suffix: str, golden: str) -> None:
    upstream.push(Reply(text="".join(SEED_PIECES), chunks=SEED_PIECES))
    response = await proxy.post(f"/openai/completions{suffix}", {**COMPLETION, "n": 4})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    expected_type = "application/x-ndjson" if suffix == "/stream" else "text/event-stream"
    assert response.headers["content-type"].startswith(expected_type)
    assert_golden(golden, response)
    # n is fixed to 1 when streaming
    assert len([r for r in upstream.requests if r.path == "/v1/chat/completions"]) == 1


async def test_edits_plain(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="What day of the week is it?"), Reply(text="What day of the week is it?"))
    response = await proxy.post("/openai/edits", {**EDIT, "n": 2})
    assert response.status_code == 200
    assert_golden("edits.json", response)
    system, user = upstream.last.json["messages"]
    assert system["role"] == "system" and "edit" in system["content"]
    assert user["content"] == "Instruction: Fix the spelling mistakes\n\nText:\nWhat day of the wek is it?"


@pytest.mark.parametrize(("suffix", "golden"), [("/stream", "edits_stream.ndjson"), ("/sse", "edits_sse.sse")])
async def test_edits_streamed(proxy: Proxy, upstream: ScriptedUpstream, suffix: str, golden: str) -> None:
    upstream.push(Reply(text="What day of the week is it?", chunks=["What day", " of the week", " is it?"]))
    response = await proxy.post(f"/openai/edits{suffix}", EDIT)
    assert response.status_code == 200
    assert_golden(golden, response)


async def test_completions_map_legacy_models_by_config(start_proxy, upstream: ScriptedUpstream) -> None:  # type: ignore[no-untyped-def]
    proxy = await start_proxy(chatgpt_proxy={"legacy_models": {"text-davinci-003": "gpt-other"}},
                              model_aliases={"gpt-other": MODEL})
    await proxy.post("/openai/completions", COMPLETION)
    assert upstream.last.json["model"] == MODEL  # gpt-other, through the alias
    response = await proxy.post("/openai/completions", {**COMPLETION, "model": "no-such-model"})
    assert response.status_code == 404
    assert response.json()["code"] == 404 and "no-such-model" in response.json()["message"]


async def test_completions_list_prompt_answers_each(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    response = await proxy.post("/openai/completions", {**COMPLETION, "prompt": ["a", "b"], "n": 2})
    assert response.json()["data"] == ["Echo: a", "Echo: a", "Echo: b", "Echo: b"]
    streamed = await proxy.post("/openai/completions/stream", {**COMPLETION, "prompt": ["a", "b"]})
    assert streamed.status_code == 200  # the stream's own envelope: clients read the body
    assert lines(streamed) == [{"code": 400, "data": "streaming answers one prompt at a time", "message": "error"},
                               {"code": 0, "data": "[DONE]", "message": "end"}]
