"""ChatEvent stream -> the native SSE stream with named events (seed 004; payloads are our contract):

    event: start        {"conversation_id","message_id","user_message_id","model"}
    event: reasoning    {"delta","message_id"}
    event: text         {"delta","message_id"}
    event: tool_call    {"id","name","arguments","message_id"}
    event: tool_result  {"id","name","result","is_error"}
    event: done         {"message_id","content","usage":{"prompt_tokens","completion_tokens"}}
    event: error        {"code","message"}
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from switchboard.core.domain import events as ev
from switchboard.faces._shared.responses import sse_event


async def native_sse(events: AsyncIterator[ev.ChatEvent]) -> AsyncIterator[bytes]:
    message_id = 0
    try:
        async for event in events:
            kind = type(event)
            if kind is ev.TextDelta:
                # the hot path: a prebuilt frame, one orjson call
                yield b"event: text\ndata: " + orjson.dumps({"delta": event.text, "message_id": message_id}) + b"\n\n"  # type: ignore[union-attr]
            elif kind is ev.ReasoningDelta:
                yield sse_event("reasoning", {"delta": event.text, "message_id": message_id})  # type: ignore[union-attr]
            elif isinstance(event, ev.Started):
                message_id = event.message_id
                yield sse_event("start", {
                    "conversation_id": event.conversation_id, "message_id": event.message_id,
                    "user_message_id": event.user_message_id, "model": event.model,
                })
            elif isinstance(event, ev.ToolCallRunning):
                yield sse_event("tool_call", {
                    "id": event.call_id, "name": event.name, "arguments": _json_or_text(event.arguments),
                    "message_id": message_id,
                })
            elif isinstance(event, ev.ToolResult):
                yield sse_event("tool_result", {
                    "id": event.call_id, "name": event.name, "result": _json_or_text(event.content),
                    "is_error": event.is_error,
                })
            elif isinstance(event, ev.Done):
                yield sse_event("done", {
                    "message_id": event.message_id, "content": event.content, "reasoning": event.reasoning,
                    "finish_reason": event.finish_reason,
                    "usage": {"prompt_tokens": event.usage.prompt_tokens,
                              "completion_tokens": event.usage.completion_tokens},
                })
            elif isinstance(event, ev.Failed):
                yield sse_event("error", {"code": event.code, "message": event.message})
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()


def _json_or_text(text: str) -> Any:
    try:
        return orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return text
