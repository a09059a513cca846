"""Stream chunks -> provider events, and HTTP failures -> DomainErrors, without a server."""

from __future__ import annotations

import orjson
import pytest

from switchboard.adapters.providers.openai_wire import ChunkReader, read_answer, status_error
from switchboard.core.domain.errors import UpstreamError
from switchboard.core.domain.events import Finish, ReasoningDelta, TextDelta, ToolCallDelta, Usage


def chunk(delta: dict[str, object] | None = None, **extra: object) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": extra.pop("finish", None)}]
    return orjson.dumps({"choices": choices, **extra})


def test_content_reasoning_both_spellings_and_finish() -> None:
    reader = ChunkReader("p")
    assert reader.read([chunk({"reasoning_content": "r1"})]) == [ReasoningDelta("r1")]
    assert reader.read([chunk({"reasoning": "r2", "content": "t"})]) == [ReasoningDelta("r2"), TextDelta("t")]
    assert reader.read([chunk({"role": "assistant", "content": ""})]) == []
    assert reader.read([chunk({}, finish="length")]) == [Finish("length")]
    assert reader.finished


def test_the_payloads_of_one_read_come_out_as_one_list_in_order() -> None:
    reader = ChunkReader("p")
    payloads = [chunk({"content": "a"}), chunk({"reasoning": "r"}), chunk({"content": "b"}, finish="stop")]
    assert reader.read(payloads) == [TextDelta("a"), ReasoningDelta("r"), TextDelta("b"), Finish("stop")]
    assert reader.read([]) == []


def test_tool_call_deltas_keep_index_id_and_name() -> None:
    reader = ChunkReader("p")
    first = {"index": 1, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    assert reader.read([chunk({"tool_calls": [first]})]) == [ToolCallDelta(1, "call_1", "f", "")]
    more = {"index": 1, "function": {"arguments": '{"a"'}}
    assert reader.read([chunk({"tool_calls": [more]})]) == [ToolCallDelta(1, None, None, '{"a"')]


def test_usage_is_remembered_not_emitted() -> None:
    reader = ChunkReader("p")
    usage = {"prompt_tokens": 9, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 4}}
    assert reader.read([chunk(None, usage=usage)]) == []
    assert reader.usage == Usage(9, 3)
    reader.read([chunk(None, usage={"prompt_tokens": 2, "total_tokens": 7})])
    assert reader.usage == Usage(2, 5)
    reader.read([chunk({"content": "x"}, usage=None)])
    assert reader.usage == Usage(2, 5)


def test_an_error_object_in_the_stream_is_its_failure_after_the_events_before_it() -> None:
    reader = ChunkReader("p")
    error = b'{"error": {"message": "overloaded", "type": "server_error"}}'
    assert reader.read([chunk({"content": "a"}), error, chunk({"content": "b"})]) == [TextDelta("a")]
    assert reader.failure is not None
    assert reader.failure.message == "provider 'p' failed mid-stream: overloaded"


def test_a_malformed_chunk_is_a_clear_failure() -> None:
    reader = ChunkReader("p")
    assert reader.read([b"{not json"]) == []
    assert reader.failure is not None and "malformed" in reader.failure.message


@pytest.mark.parametrize(
    ("status", "fragment", "retryable"),
    [
        (400, "request refused (HTTP 400): too long", False),
        (401, "rejected the API key", False),
        (404, "model 'm' not found", False),
        (429, "rate limited by provider", True),
        (503, "provider failed (HTTP 503): too long", True),
    ],
)
def test_status_errors(status: int, fragment: str, retryable: bool) -> None:
    error = status_error("p", status, b'{"error": {"message": "too long"}}', model="m")
    assert fragment in error.message and error.status == status and error.retryable is retryable


def test_plain_text_error_body() -> None:
    assert "Bad Gateway" in status_error("p", 502, b"<h1>Bad Gateway</h1>").message


def answer(message: dict[str, object] | None, finish: str | None = "stop", **extra: object) -> bytes:
    choices = [] if message is None else [{"index": 0, "message": message, "finish_reason": finish}]
    return orjson.dumps({"id": "c", "object": "chat.completion", "choices": choices, **extra})


def test_a_whole_answer_is_one_list_in_stream_order_with_usage_last() -> None:
    body = answer({"role": "assistant", "reasoning_content": "hm", "content": "Hi"}, "length",
                  usage={"prompt_tokens": 5, "completion_tokens": 2})
    assert read_answer("p", body) == [ReasoningDelta("hm"), TextDelta("Hi"), Finish("length"), Usage(5, 2)]
    assert read_answer("p", answer({"content": "ok", "reasoning": "r"}, None)) == [ReasoningDelta("r"),
                                                                                    TextDelta("ok")]


def test_a_whole_answers_tool_calls_come_whole_indexed_by_position() -> None:
    calls = [{"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
             {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]
    events = read_answer("p", answer({"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls"))
    assert events == [ToolCallDelta(0, "a", "f", '{"x": 1}'), ToolCallDelta(1, "b", "g", "{}"), Finish("tool_calls")]


@pytest.mark.parametrize(("body", "words"), [
    (b"{not json", "malformed answer"),
    (b'"just a string"', "malformed answer"),
    (b'{"choices": ["nonsense"]}', "malformed answer"),
    (answer(None), "without a choice"),
    (orjson.dumps({"error": {"message": "the model is overloaded"}}), "failed: the model is overloaded"),
])
def test_a_broken_whole_answer_is_an_upstream_error(body: bytes, words: str) -> None:
    with pytest.raises(UpstreamError, match=words) as caught:
        read_answer("p", body)
    assert "provider 'p'" in caught.value.message
