"""Text chunks -> the raw body MuseBot's web client reads: UTF-8 text, no `data:` framing, closed at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator

RAW_TEXT_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"connection", b"keep-alive"),
]


async def raw_text(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk.encode()
    finally:
        closer = getattr(chunks, "aclose", None)
        if closer is not None:
            await closer()
