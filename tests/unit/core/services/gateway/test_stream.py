"""The gateway's token loop: whole events relayed as they came, usage learnt, errors caught."""

from __future__ import annotations

import json

from switchboard.core.services.gateway.stream import StreamScanner, usage_numbers


def chunk(**fields: object) -> bytes:
    return b"data: " + json.dumps({"object": "chat.completion.chunk", **fields}).encode() + b"\n\n"


TEXT = chunk(choices=[{"index": 0, "delta": {"content": "hi"}}])
FINISH = chunk(choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])
USAGE = chunk(choices=[], usage={"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10})
DONE = b"data: [DONE]\n\n"


def test_events_pass_through_byte_for_byte_and_partial_ones_wait() -> None:
    scanner = StreamScanner(strip_usage=False)
    assert scanner.feed(TEXT[:10]) == b""
    assert scanner.feed(TEXT[10:] + FINISH[:5]) == TEXT
    assert scanner.feed(FINISH[5:]) == FINISH
    assert scanner.events == 2 and scanner.usage is None


def test_the_usage_chunk_is_read_and_hidden_from_a_client_that_did_not_ask() -> None:
    hidden, shown = StreamScanner(strip_usage=True), StreamScanner(strip_usage=False)
    tail = FINISH + USAGE + DONE
    assert hidden.feed(tail) == FINISH + DONE
    assert shown.feed(tail) == tail
    assert usage_numbers(hidden.usage) == usage_numbers(shown.usage) == (7, 3)


def test_a_usage_object_on_a_chunk_with_choices_is_kept() -> None:
    both = chunk(choices=[{"index": 0, "delta": {"content": "x"}}], usage={"prompt_tokens": 1, "completion_tokens": 1})
    assert StreamScanner(strip_usage=True).feed(both) == both


def test_crlf_framing_and_a_last_event_without_its_blank_line() -> None:
    scanner = StreamScanner(strip_usage=True)
    assert scanner.feed(TEXT.replace(b"\n", b"\r\n")) == TEXT.replace(b"\n", b"\r\n")
    assert scanner.feed(USAGE.rstrip(b"\n")) == b""
    assert scanner.flush() == b"" and scanner.usage is not None  # the usage-only chunk, hidden


def test_a_provider_error_mid_stream_stops_the_relay_there() -> None:
    scanner = StreamScanner(strip_usage=False)
    error = b'data: {"error": {"message": "model overloaded", "type": "server_error"}}\n\n'
    assert scanner.feed(TEXT + error + TEXT) == TEXT
    assert scanner.error == "model overloaded"


def test_content_logging_collects_the_answer_text() -> None:
    scanner = StreamScanner(strip_usage=True, collect_text=True)
    scanner.feed(TEXT + TEXT + FINISH + USAGE)
    assert "".join(scanner.texts) == "hihi" and scanner.finish_reason == "stop"


def test_usage_numbers_of_every_api_shape() -> None:
    assert usage_numbers({"prompt_tokens": 5, "completion_tokens": 2}) == (5, 2)
    assert usage_numbers({"prompt_tokens": 5, "total_tokens": 9}) == (5, 4)  # embeddings
    assert usage_numbers({"input_tokens": 3, "output_tokens": 1}) == (3, 1)  # newer APIs
    assert usage_numbers(None) is None and usage_numbers({}) is None
