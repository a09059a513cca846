"""Sanity of the heuristic token counter: the right order of magnitude, never zero for content."""

from __future__ import annotations

from switchboard.adapters.tokens.estimate import IMAGE_TOKENS, HeuristicTokenCounter

counter = HeuristicTokenCounter()


def test_ascii_is_about_four_characters_per_token() -> None:
    assert counter.count_text("") == 0
    assert counter.count_text("hi") == 1
    assert counter.count_text("a" * 400) == 100


def test_cjk_counts_one_token_per_character() -> None:
    assert counter.count_text("你好世界") == 4
    assert counter.count_text("こんにちは") == 5
    assert counter.count_text("hello 你好") == 2 + 2


def test_other_non_ascii_counts_about_one_per_two_characters() -> None:
    assert counter.count_text("éèêë") == 2


def test_messages_add_overhead_images_and_tool_calls() -> None:
    text_only = counter.count_messages([{"role": "user", "content": "a" * 40}])
    assert text_only > 10
    with_image = counter.count_messages([{"role": "user", "content": [
        {"type": "text", "text": "a" * 40}, {"type": "image_url", "image_url": {"url": "data:..."}},
    ]}])
    assert with_image == text_only + IMAGE_TOKENS
    with_call = counter.count_messages([{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"q": "x"}'}},
    ]}])
    assert with_call > counter.count_messages([{"role": "assistant", "content": None}])
    bare = counter.count_messages([{"role": "assistant", "content": None}])
    for malformed in (1.5, "calls", [1, None], [{"function": 3}]):
        assert counter.count_messages([{"role": "assistant", "content": None, "tool_calls": malformed}]) >= bare


def test_tool_definitions_count() -> None:
    assert counter.count_tools([]) == 0
    assert counter.count_tools([{"type": "function", "function": {"name": "f", "parameters": {}}}]) > 5
