"""Every request in seed 001's own document (`001-classic-openai-proxy.md`, the API's only client
now that the original is gone), sent as it is written there, is answered without an error; and
the document's promises that the first tests missed (issue 17): its `max_tokens` range 0-4096,
its chatcode the server never made, and streams that always end with the `end` line."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.config.settings import ProviderSettings
from tests.contract.chatgpt_proxy.conftest import MODEL, Proxy, lines
from tests.support.upstream import Reply, ScriptedUpstream

CAT = {"role": "system", "content": "现在开始你要扮演一只会说话的猫，每一句话的结尾都要加上“喵~”"}
CAT_2 = {"role": "system", "content": "你是一只会说话的猫，每一句话的结尾都要加上“喵~”"}
# (method, path, body) as the document writes them, in its order
SEED_REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/openai/models", None),
    ("POST", "/openai/completions",
     {"model": "text-davinci-003", "prompt": "Say this is a test", "max_tokens": 16, "temperature": 1, "n": 1}),
    ("POST", "/openai/completions/stream",
     {"model": "text-davinci-003", "prompt": "Say This is test", "max_tokens": 16, "temperature": 1}),
    ("POST", "/openai/completions/sse",
     {"model": "text-davinci-003", "prompt": "Say This is test", "max_tokens": 16, "temperature": 1}),
    ("POST", "/openai/chat", {"chatcode": "MjAyMy0wNS0zMCAxMTowOTo1NQ==", "model": "gpt-3.5-turbo",
                              "messages": [{"role": "user", "content": "我第一句话是什么"}], "max_tokens": 1000,
                              "temperature": 1, "initMessage": CAT}),
    ("POST", "/openai/chat/stream", {"chatcode": "MjAyMy0wNS0zMCAxMDo1MDozNw==", "model": "gpt-3.5-turbo",
                                     "messages": [{"role": "user", "content": "我上句话说的是什么"}],
                                     "max_tokens": 1000, "temperature": 1, "initMessage": CAT_2}),
    ("POST", "/openai/chat/sse", {"chatcode": "MjAyMy0wNS0zMCAxMDo1MDozNw==", "model": "gpt-3.5-turbo",
                                  "messages": [{"role": "user", "content": "我上句话说的是什么"}],
                                  "max_tokens": 1000, "temperature": 1, "initMessage": CAT_2}),
    ("POST", "/openai/edits", {"model": "text-davinci-edit-001", "input": "What day of the wek is it?",
                               "instruction": "Fix the spelling mistakes", "temperature": 1, "n": 1}),
    ("POST", "/openai/image", {"prompt": "A cute baby sea otter", "n": 1, "size": "1024x1024",
                               "response_format": "b64_json"}),
    ("POST", "/send", {"text": "你好", "inputFileId": "xxx"}),
]


@pytest.fixture
async def seed_proxy(start_proxy):  # type: ignore[no-untyped-def]
    # what an operator configures for these clients: the chat model they name is served (here an alias)
    return await start_proxy(model_aliases={"gpt-3.5-turbo": MODEL})


@pytest.mark.parametrize(("method", "path", "body"), SEED_REQUESTS, ids=[f"{m} {p}" for m, p, _ in SEED_REQUESTS])
async def test_the_documents_requests_are_answered(
    seed_proxy: Proxy, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await seed_proxy.client.request(method, path, json=body, headers=seed_proxy.auth("alice"))
    assert response.status_code == 200, response.text
    if path.endswith(("/stream", "/sse")):
        objects = lines(response)
        assert {o["message"] for o in objects} <= {"continue", "code", "end"}, response.text
        assert objects[-1] == {"code": 0, "data": "[DONE]", "message": "end"}
    else:
        assert response.json()["code"] == 0, response.text


@pytest.mark.parametrize("path", ["/openai/completions", "/openai/completions/stream", "/openai/chat"])
async def test_max_tokens_zero_is_the_models_default(seed_proxy: Proxy, upstream: ScriptedUpstream, path: str) -> None:
    """The document allows `max_tokens` 0-2048/4096; 0 leaves the length to the model."""
    body: dict[str, Any] = ({"prompt": "Say this is a test"} if "completions" in path
                            else {"messages": [{"role": "user", "content": "hi"}]})
    upstream.push(Reply(text="ok"))
    response = await seed_proxy.post(path, {**body, "model": "gpt-3.5-turbo", "max_tokens": 0})
    assert response.status_code == 200, response.text
    assert "max_tokens" not in upstream.last.json and "max_completion_tokens" not in upstream.last.json
    negative = await seed_proxy.post(path, {**body, "max_tokens": -1})
    assert negative.status_code == 200 if path.endswith("/stream") else negative.status_code == 422
    assert "max_tokens" in negative.text


ASKS = {"/openai/completions": {"prompt": "x"}, "/openai/chat": {"messages": [{"role": "user", "content": "x"}]},
        "/openai/edits": {"input": "x", "instruction": "fix it"}}


@pytest.mark.parametrize("suffix", ["/stream", "/sse"])
@pytest.mark.parametrize("route", list(ASKS))
async def test_errors_before_the_first_word_are_the_streams_own(seed_proxy: Proxy, route: str, suffix: str) -> None:
    """An unknown model, a malformed body, a missing key: each the stream's `error` then `end`, HTTP 200."""
    ask = ASKS[route]
    cases = [({**ask, "model": "no-such-model"}, seed_proxy.auth("alice"), 404),
             ({**ask, "temperature": 9}, seed_proxy.auth("alice"), 422),
             (ask, {}, 401)]
    for body, headers, code in cases:
        response = await seed_proxy.client.post(f"{route}{suffix}", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream" if suffix == "/sse" else
                                                           "application/x-ndjson")
        error, end = lines(response)
        assert (error["code"], error["message"]) == (code, "error") and error["data"]
        assert end == {"code": 0, "data": "[DONE]", "message": "end"}


async def test_models_lists_only_what_the_providers_serve(start_proxy, upstream: ScriptedUpstream) -> None:  # type: ignore[no-untyped-def]
    """Not the offline `echo`, not aliases, and no image model among the chat suggestions."""
    served = [MODEL, "whisper-1", "text-embedding-ada-002", "dall-e-3", "gpt-image-1"]
    proxy: Proxy = await start_proxy(model_aliases={"gpt-3.5-turbo": MODEL}, providers=[
        ProviderSettings(name="up", base_url=upstream.base_url, models=served, max_retries=0)])
    data = (await proxy.client.get("/openai/models", headers=proxy.auth("alice"))).json()["data"]
    assert data["models"] == served
    assert data["suggest"]["chat"] == [MODEL]
    assert "dall-e-3" not in data["suggest"]["completions"] and "echo" not in data["suggest"]["edits"]
