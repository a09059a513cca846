"""POST /openai/chat (plain, /stream, /sse) with server-side history by chatcode, and POST /send."""

from __future__ import annotations

import pytest

from tests.contract.chatgpt_proxy.conftest import MODEL, Proxy, assert_golden, lines
from tests.support.upstream import Reply, ScriptedUpstream

CAT = "现在开始你要扮演一只会说话的猫，每一句话的结尾都要加上“喵~”"
ANSWER = "你上句话说的是“我上句话说的是什么喵~”"


def chat_body(content: str, chatcode: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": content}], "max_tokens": 1000,
        "temperature": 1, "initMessage": {"role": "system", "content": CAT},
    }
    if chatcode is not None:
        body["chatcode"] = chatcode
    return body


@pytest.fixture
async def cat_proxy(start_proxy):  # type: ignore[no-untyped-def]
    # the 2023 front-ends ask for gpt-3.5-turbo; the operator maps it to a model they serve
    return await start_proxy(model_aliases={"gpt-3.5-turbo": MODEL})


async def test_chat_plain_starts_a_conversation_and_continues_it(cat_proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="你好喵~"), Reply(text="你第一句话是：“你好”喵~"))
    first = await cat_proxy.post("/openai/chat", chat_body("你好"))
    assert first.status_code == 200
    assert_golden("chat_new.json", first)
    chatcode = first.json()["data"]["chatcode"]

    second = await cat_proxy.post("/openai/chat", chat_body("我第一句话是什么", chatcode))
    assert second.json()["data"] == {"chatcode": chatcode, "role": "assistant", "content": "你第一句话是：“你好”喵~"}
    # the later turn sees the persona and the whole history
    assert upstream.last.json["messages"] == [
        {"role": "system", "content": CAT}, {"role": "user", "content": "你好"},
        {"role": "assistant", "content": "你好喵~"}, {"role": "user", "content": "我第一句话是什么"},
    ]
    stored = await cat_proxy.messages("alice", chatcode)
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert [r.json["stream"] for r in upstream.requests] == [False, False]  # plain: asked for whole answers


@pytest.mark.parametrize(("suffix", "golden"), [("/stream", "chat_stream.ndjson"), ("/sse", "chat_sse.sse")])
async def test_chat_streamed_ends_with_the_chatcode(
    cat_proxy: Proxy, upstream: ScriptedUpstream, suffix: str, golden: str
) -> None:
    upstream.push(Reply(text="你好喵~"), Reply(text=ANSWER, chunks=list(ANSWER)))
    chatcode = (await cat_proxy.post("/openai/chat", chat_body("我上句话说的是什么"))).json()["data"]["chatcode"]
    response = await cat_proxy.post(f"/openai/chat{suffix}", chat_body("我上句话说的是什么", chatcode))
    assert response.status_code == 200
    assert_golden(golden, response)
    assert lines(response)[-2] == {"code": 0, "data": chatcode, "message": "code"}
    assert [r.json["stream"] for r in upstream.requests] == [False, True]


async def test_chat_stream_without_chatcode_returns_the_new_one(cat_proxy: Proxy) -> None:
    response = await cat_proxy.post("/openai/chat/stream", chat_body("hi"))
    objects = lines(response)
    assert objects[-2]["message"] == "code" and objects[-2]["data"].startswith("conv_")
    follow = await cat_proxy.post("/openai/chat", chat_body("again", objects[-2]["data"]))
    assert follow.status_code == 200


async def test_send_threads_by_file_id(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="我是GPT-4,很高兴认识你"), Reply(text="你说了你好"))
    first = await proxy.post("/send", {"text": "你好"})
    assert first.status_code == 200
    assert_golden("send.json", first)
    file_id = first.json()["fileId"]
    assert first.json()["data"] == {"text": "我是GPT-4,很高兴认识你", "fileId": file_id}

    second = await proxy.post("/send", {"text": "我说了什么", "inputFileId": file_id})
    assert second.json()["text"] == "你说了你好" and second.json()["fileId"] == file_id
    assert [m["content"] for m in upstream.last.json["messages"]] == ["你好", "我是GPT-4,很高兴认识你", "我说了什么"]
