"""The gateway's relayed SSE bytes -> the client, ending with an error chunk if it breaks off.

The bytes are the provider's own chunks (ids, reasoning_content, tool-call deltas, usage ...), so
this layer adds nothing on the hot path; it only makes sure a failure after the first byte ends
the stream with OpenAI's error object and `[DONE]` instead of a cut connection.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from switchboard.core.domain.errors import DomainError
from switchboard.faces.openai.envelope import stream_error_chunk

log = logging.getLogger(__name__)


async def openai_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    except DomainError as exc:
        yield stream_error_chunk(exc)
    except Exception:
        log.exception("a gateway stream failed")
        yield stream_error_chunk(DomainError("the stream failed inside Switchboard; the details were logged"))
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
