"""Failures: every one in the envelope with a non-zero code, a readable message and a fitting
status; in streams, an `error` object (after whatever text already went out)."""

from __future__ import annotations

import pytest

from tests.contract.chatgpt_proxy.conftest import Proxy, assert_golden, lines
from tests.support.upstream import Reply, ScriptedUpstream

CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
COMPLETION = {"model": "text-davinci-003", "prompt": "Say this is a test"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sb-not-a-key"}, {"Authorization": "Basic eA=="}])
async def test_credentials_are_required(proxy: Proxy, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/openai/models"), ("POST", "/openai/chat"), ("POST", "/send"),
                         ("POST", "/openai/completions/stream"), ("POST", "/openai/image")):
        response = await proxy.client.request(method, path, json=CHAT, headers=headers)
        if path.endswith("/stream"):  # the stream's own envelope, HTTP 200: `error` then `end`
            assert response.status_code == 200, path
            error, end = lines(response)
            assert error["code"] == 401 and error["message"] == "error" and error["data"]
            assert end["message"] == "end"
            continue
        assert response.status_code == 401, path
        body = response.json()
        assert body["code"] == 401 and body["data"] is None and body["message"]


async def test_missing_key_golden(proxy: Proxy) -> None:
    assert_golden("error_unauthenticated.json", await proxy.post("/openai/chat", CHAT, who=None))


async def test_bad_json_and_wrong_types(proxy: Proxy) -> None:
    bad = await proxy.client.post("/openai/chat", content=b"{not json", headers={
        **proxy.auth("alice"), "content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["code"] == 422 and bad.json()["data"] is None
    for path, body in (("/openai/chat", {"messages": "hi"}), ("/openai/chat", {"messages": []}),
                       ("/openai/completions", {"prompt": "x", "n": "many"}),
                       ("/openai/completions", {"prompt": "x", "temperature": 3}),
                       ("/openai/edits", {"input": "x"}), ("/send", {"text": 5}), ("/send", {})):
        response = await proxy.post(path, body)
        assert response.status_code == 422, (path, body)
        assert response.json()["code"] == 422 and response.json()["message"].startswith("invalid request")
    assert_golden("error_wrong_type.json", await proxy.post("/openai/completions", {"prompt": "x", "n": "many"}))


@pytest.mark.parametrize(("path", "body"), [("/openai/completions", {**COMPLETION, "n": 11}),
                                            ("/openai/edits", {"input": "a", "instruction": "b", "n": 11}),
                                            ("/openai/completions", {"prompt": ["a"] * 6, "n": 2})])
async def test_n_bounds(proxy: Proxy, upstream: ScriptedUpstream, path: str, body: dict[str, object]) -> None:
    response = await proxy.post(path, body)
    assert response.status_code == 400
    assert response.json() == {"code": 400, "data": None, "message": "n is too large: at most 10 results per request"}
    assert not [r for r in upstream.requests if r.path == "/v1/chat/completions"]


async def test_unknown_and_foreign_chatcodes_start_a_new_conversation(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    """Seed 001's own example sends a chatcode the server never made: it answers in a new
    conversation, under a new code. Another user's code is the same as an unknown one."""
    await proxy.user("bob")
    bobs = (await proxy.post("/openai/chat", CHAT, who="bob")).json()["data"]["chatcode"]
    for chatcode in ("MjAyMy0wNS0zMCAxMTowOTo1NQ==", bobs):
        plain = await proxy.post("/openai/chat", {**CHAT, "chatcode": chatcode})
        assert plain.status_code == 200 and plain.json()["code"] == 0
        assert plain.json()["data"]["chatcode"] not in (chatcode, bobs)
        sent = await proxy.post("/send", {"text": "你好", "inputFileId": chatcode})
        assert sent.status_code == 200 and sent.json()["fileId"] not in (chatcode, bobs)
    streamed = lines(await proxy.post("/openai/chat/stream", {**CHAT, "chatcode": bobs}))
    assert [o["message"] for o in streamed][-2:] == ["code", "end"] and streamed[-2]["data"] != bobs
    # bob's conversation is untouched, alice has her own
    assert len(await proxy.messages("bob", bobs)) == 2
    assert len(await proxy.conversations("alice")) == 5


async def test_upstream_failure_in_plain_mode(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(status=500))
    response = await proxy.post("/openai/chat", CHAT)
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == 502 and body["data"] is None and "500" in body["message"]


@pytest.mark.parametrize(("suffix", "golden"), [("/stream", "error_midstream.ndjson"),
                                                 ("/sse", "error_midstream.sse")])
async def test_upstream_breaks_mid_stream(
    proxy: Proxy, upstream: ScriptedUpstream, suffix: str, golden: str
) -> None:
    upstream.push(Reply(text="This is a test", chunks=["This", " is", " a", " test"], fail_after_chunks=2))
    response = await proxy.post(f"/openai/completions{suffix}", COMPLETION)
    assert response.status_code == 200  # the stream had begun: the failure, then the end as always
    assert_golden(golden, response)
    error, end = lines(response)[-2:]
    assert error["message"] == "error" and error["code"] >= 500
    assert end == {"code": 0, "data": "[DONE]", "message": "end"}


async def test_upstream_failure_before_any_text(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(status=500))
    response = await proxy.post("/openai/chat/stream", CHAT)
    assert response.status_code == 200  # the turn had started when the provider failed
    assert [o["message"] for o in lines(response)] == ["error", "end"]
    assert lines(response)[0]["code"] == 502
    # the question is kept, the failed answer marked so
    (conversation,) = await proxy.conversations("alice")
    assert [m["status"] for m in await proxy.messages("alice", conversation["id"])] == ["completed", "failed"]


async def test_quota_refusal_is_429_and_leaves_no_conversation(start_proxy) -> None:  # type: ignore[no-untyped-def]
    proxy = await start_proxy(default_token_allowance=5)
    response = await proxy.post("/openai/chat", CHAT)
    assert response.status_code == 429 and response.json()["code"] == 429
    for mode in ("stream", "sse"):  # clients of the streams read the body, not the status
        streamed = await proxy.post(f"/openai/chat/{mode}", CHAT)
        assert streamed.status_code == 200
        assert [(o["code"], o["message"]) for o in lines(streamed)] == [(429, "error"), (0, "end")]
    assert await proxy.conversations("alice") == []
