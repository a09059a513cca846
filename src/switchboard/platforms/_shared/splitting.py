"""Long answers as several messages: cut at a paragraph, else a line, else a sentence or a space,
so no piece is longer than an IM message may be and words stay whole where they can."""

from __future__ import annotations

_BREAKS = ("\n\n", "\n", "。", ". ", "! ", "? ", "！", "？", " ")


def split_text(text: str, limit: int) -> list[str]:
    if limit < 1:
        raise ValueError("limit must be at least 1")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = 0
        for mark in _BREAKS:
            at = window.rfind(mark)
            if at >= limit // 2:  # a break in the first half would leave tiny pieces
                cut = at + len(mark)
                break
        cut = cut or limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
