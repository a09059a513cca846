"""Stream chunks -> provider events, and HTTP failures -> DomainErrors, without a server."""

from __future__ import annotations

import orjson
import pytest

from switchboard.adapters.providers.openai_wire import ChunkReader, status_error
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
