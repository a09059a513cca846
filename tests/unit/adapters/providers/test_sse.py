"""The SSE line decoder: split lines, prefixes, comments, CRLF, a last line without newline."""

from __future__ import annotations

from switchboard.adapters.providers.sse import DONE, SSEDecoder


def test_data_lines_with_and_without_space() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"a":1}\n\ndata:{"b":2}\n\n') == [b'{"a":1}', b'{"b":2}']


def test_comments_and_other_fields_are_dropped() -> None:
    decoder = SSEDecoder()
    stream = b": keep-alive\n\nevent: message\nid: 7\nretry: 100\ndata: x\n\n: OPENROUTER PROCESSING\n\n"
    assert decoder.feed(stream) == [b"x"]


def test_lines_split_across_chunks() -> None:
    decoder = SSEDecoder()
    whole = b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'
    out: list[bytes] = []
    for i in range(0, len(whole), 5):
        out += decoder.feed(whole[i:i + 5])
    assert out == [b'{"choices":[{"delta":{"content":"hi"}}]}', DONE]


def test_crlf_line_endings() -> None:
    assert SSEDecoder().feed(b"data: one\r\n\r\ndata: two\r\n\r\n") == [b"one", b"two"]


def test_last_line_without_newline_is_flushed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n\ndata: [DONE]") == [b"one"]
    assert decoder.flush() == [DONE]
    assert decoder.flush() == []


def test_bare_json_error_line_is_a_payload() -> None:
    assert SSEDecoder().feed(b'{"error": {"message": "bad"}}\n') == [b'{"error": {"message": "bad"}}']


def test_a_read_with_one_other_line_among_data_lines_reads_them_all_in_order() -> None:
    # the all-`data: ` fast path must not drop or reorder what the line-by-line reading keeps
    mixed = b'data: a\n\n{"error": {"message": "x"}}\ndata: b\n\n: ping\n\ndata:c\n\n'
    assert SSEDecoder().feed(mixed) == [b"a", b'{"error": {"message": "x"}}', b"b", b"c"]
    assert SSEDecoder().feed(b"data: a\n\ndata: b\r\n\r\n") == [b"a", b"b"]
