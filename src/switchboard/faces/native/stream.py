"""ChatEvent stream -> the native SSE stream with named events (seed 004; payloads are our contract):

    event: start        {"conversation_id","message_id","user_message_id","model"}
    event: reasoning    {"delta","message_id"}
    event: text         {"delta","message_id"}
    event: tool_call    {"id","name","arguments","message_id"}
    event: tool_result  {"id","name","result","is_error"}
    event: done         {"message_id","content","usage":{"prompt_tokens","completion_tokens"}}
    event: error        {"code","message"}

Every event carries an SSE `id:`, its number in the answer (1, 2, 3 …): a client that lost the
stream asks `GET /api/messages/{message_id}/stream` with `Last-Event-ID` for the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from switchboard.core.domain import events as ev
from switchboard.core.services.chat.replay import Batch
from switchboard.faces._shared.responses import sse_event


async def native_sse(batches: AsyncIterator[Batch], message_id: int = 0) -> AsyncIterator[bytes]:
    """One bytes per batch of events (so one write per batch); `message_id`: the answer's, for a
    resumed stream that starts after its `start` event."""
    try:
        async for batch in batches:
            frames: list[bytes] = []
            for number, event in batch:
                if type(event) is ev.TextDelta:
                    # the hot path: a prebuilt frame around the text's JSON string, one orjson call
                    # and no dict per token (same bytes as dumps({"delta": ..., "message_id": ...}))
                    frames.append(b'id: %d\nevent: text\ndata: {"delta":%b,"message_id":%d}\n\n' % (
                        number, orjson.dumps(event.text), message_id))
                    continue
                if isinstance(event, ev.Started):
                    message_id = event.message_id
                frame = _frame(event, message_id)
                if frame is not None:
                    frames.append(b"id: %d\n%b" % (number, frame))
            if frames:
                yield b"".join(frames)
    finally:
        closer = getattr(batches, "aclose", None)
        if closer is not None:
            await closer()


def _frame(event: ev.ChatEvent, message_id: int) -> bytes | None:
    """The event as one SSE event, or None for the events this stream does not show."""
    if isinstance(event, ev.ReasoningDelta):
        return sse_event("reasoning", {"delta": event.text, "message_id": message_id})
    if isinstance(event, ev.Started):
        return sse_event("start", {
            "conversation_id": event.conversation_id, "message_id": event.message_id,
            "user_message_id": event.user_message_id, "model": event.model,
        })
    if isinstance(event, ev.ToolCallRunning):
        return sse_event("tool_call", {
            "id": event.call_id, "name": event.name, "arguments": _json_or_text(event.arguments),
            "message_id": message_id,
        })
    if isinstance(event, ev.ToolResult):
        return sse_event("tool_result", {
            "id": event.call_id, "name": event.name, "result": _json_or_text(event.content),
            "is_error": event.is_error,
        })
    if isinstance(event, ev.Done):
        return sse_event("done", {
            "message_id": event.message_id, "content": event.content, "reasoning": event.reasoning,
            "finish_reason": event.finish_reason,
            "usage": {"prompt_tokens": event.usage.prompt_tokens, "completion_tokens": event.usage.completion_tokens},
        })
    if isinstance(event, ev.Failed):
        return sse_event("error", {"code": event.code, "message": event.message})
    return None


def _json_or_text(text: str) -> Any:
    try:
        return orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return text
