import pytest

from switchboard.platforms._shared.splitting import split_text


def test_short_text_is_one_piece() -> None:
    assert split_text("  hello  ", 100) == ["hello"]
    assert split_text("", 100) == []


def test_cuts_at_paragraphs_then_lines_then_spaces() -> None:
    text = "a" * 60 + "\n\n" + "b" * 60
    assert split_text(text, 100) == ["a" * 60, "b" * 60]
    words = " ".join(["word"] * 50)
    pieces = split_text(words, 42)
    assert all(len(p) <= 42 for p in pieces)
    assert " ".join(pieces) == words  # no word cut in two


def test_text_without_breaks_is_cut_hard_and_nothing_is_lost() -> None:
    text = "x" * 250
    pieces = split_text(text, 100)
    assert [len(p) for p in pieces] == [100, 100, 50]
    assert "".join(pieces) == text


def test_cjk_sentences() -> None:
    text = "这是第一句。" * 30
    pieces = split_text(text, 50)
    assert all(len(p) <= 50 and p.endswith("。") for p in pieces)
    assert "".join(pieces) == text


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_text("x", 0)
