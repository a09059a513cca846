"""ChatEvent stream -> AstrBot's event objects, the same for SSE (`data: {...}` lines only, no
event names, no [DONE]) and the WebSocket:

    {"type": "session_id", "data": null, "session_id": "..."}
    {"type": "user_message_saved", "data": {"id", "created_at"}}
    {"type": "plain", "data": "...", "streaming": true, "chain_type": "reasoning" | null, "message_id"}
    {"type": "plain", "data": "<JSON text>", "streaming": false, "chain_type": "tool_call" | "tool_call_result", ...}
    {"type": "image" | "record" | "file" | "video", "data": "[IMAGE]<attachment id>", "streaming", "message_id"}
    {"type": "agent_stats", "data": {"token_usage": {...}, "current_context_tokens", "start_time", ...}}
    {"type": "complete", "data": "<all text>", "reasoning": "...", "streaming": true, "message_id"}
    {"type": "message_saved", "data": {"id", "created_at"}}
    {"type": "end", "data": "", "streaming": false, "message_id"}

(AstrBot's order: its agent reports the stats when the run ends, before the webchat adapter sends
`complete`.) With streaming off, text and reasoning arrive as one `plain` each with
`"streaming": false`, and there is no `complete`. A failure reaches the client as AstrBot sends
one, the error text as a `plain` message, then `complete`, `message_saved` and `end`; Switchboard
adds `{"type": "error", "code": "PROCESSING_ERROR", "data"}` after that `plain` for newer clients.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from switchboard.core.domain import events as ev
from switchboard.faces.astrbot.mapping import utc_iso

Event = dict[str, Any]
_MEDIA = {"image": ("image", "[IMAGE]"), "audio": ("record", "[RECORD]"), "video": ("video", "[VIDEO]"),
          "file": ("file", "[FILE]")}


def encode_sse(event: Event) -> bytes:
    return b"data: " + json.dumps(event, ensure_ascii=False).encode() + b"\n\n"


class AstrBotEvents:
    """Renders one turn. Keeps the text, reasoning, usage and timings AstrBot reports at the end."""

    def __init__(self, message_id: str, streaming: bool, started_at: float | None = None) -> None:
        self.message_id = message_id
        self.streaming = streaming
        self.started_at = started_at if started_at is not None else time.time()
        self.first_token_at = 0.0
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self._pending_text: list[str] = []  # unsent text / reasoning while not streaming
        self._pending_reasoning: list[str] = []
        self.usage: ev.Usage | None = None
        self.saved: ev.MessageSaved | None = None

    def plain(self, data: str, chain_type: str | None, streaming: bool) -> Event:
        return {"type": "plain", "data": data, "streaming": streaming, "chain_type": chain_type,
                "message_id": self.message_id}

    def render(self, event: ev.ChatEvent) -> list[Event]:
        kind = type(event)
        if kind is ev.TextDelta or kind is ev.ReasoningDelta:
            return self._delta(event)  # type: ignore[arg-type]
        if isinstance(event, ev.ToolCallRunning):
            call = {"id": event.call_id, "name": event.name, "args": _json_or_text(event.arguments), "ts": time.time()}
            return [*self._flush(), self.plain(_dumps(call), "tool_call", False)]
        if isinstance(event, ev.ToolResult):
            result = {"id": event.call_id, "ts": time.time(), "result": event.content}
            return [self.plain(_dumps(result), "tool_call_result", False)]
        if isinstance(event, ev.Attachment):
            name, prefix = _MEDIA.get(event.kind, _MEDIA["file"])
            data = prefix + event.file_id + (f"|{event.name}" if name == "file" and event.name else "")
            return [*self._flush(), {"type": name, "data": data, "streaming": self.streaming,
                                     "message_id": self.message_id}]
        if isinstance(event, ev.Usage):
            self.usage = event
        elif isinstance(event, ev.MessageSaved):
            self.saved = event
        elif isinstance(event, ev.Done):
            return self._finish()
        elif isinstance(event, ev.Failed):
            return self._fail(event)
        return []

    def _delta(self, event: ev.TextDelta | ev.ReasoningDelta) -> list[Event]:
        if not event.text:
            return []
        if not self.first_token_at:
            self.first_token_at = time.time()
        reasoning = type(event) is ev.ReasoningDelta
        (self.reasoning if reasoning else self.text).append(event.text)
        if not self.streaming:
            (self._pending_reasoning if reasoning else self._pending_text).append(event.text)
            return []
        return [self.plain(event.text, "reasoning" if reasoning else None, True)]

    def _flush(self) -> list[Event]:
        out = []
        if self._pending_reasoning:
            out.append(self.plain("".join(self._pending_reasoning), "reasoning", False))
        if self._pending_text:
            out.append(self.plain("".join(self._pending_text), None, False))
        self._pending_reasoning, self._pending_text = [], []
        return out

    def _finish(self) -> list[Event]:
        out = [*self._flush(), {"type": "agent_stats", "data": self.stats()}, *self._complete("".join(self.text))]
        if self.saved is not None:
            out.append(self._saved(self.saved.message_id, self.saved.created_at))
        out.append(self.end())
        return out

    def _fail(self, failed: ev.Failed) -> list[Event]:
        """The error text as AstrBot's own message, then the error event, and the stream's usual end."""
        so_far = "".join(self.text)
        out = [*self._flush(), self.plain(failed.message, None, False),
               {"type": "error", "code": "PROCESSING_ERROR", "data": failed.message},
               *self._complete(f"{so_far}\n\n{failed.message}" if so_far else failed.message)]
        if failed.message_id is not None:  # the failed answer is stored too (with the text so far)
            out.append(self._saved(failed.message_id, datetime.now(UTC)))
        out.append(self.end())
        return out

    def _complete(self, text: str) -> list[Event]:
        if not self.streaming:
            return []
        return [{"type": "complete", "data": text, "reasoning": "".join(self.reasoning), "streaming": True,
                 "message_id": self.message_id}]

    @staticmethod
    def _saved(message_id: int, created_at: datetime) -> Event:
        return {"type": "message_saved", "data": {"id": message_id, "created_at": utc_iso(created_at)}}

    def stats(self) -> dict[str, Any]:
        usage = self.usage
        prompt = usage.prompt_tokens if usage else 0
        return {
            "token_usage": {"input_other": prompt, "input_cached": 0,
                            "output": usage.completion_tokens if usage else 0},
            # the context as the model last saw it: the last request's prompt, not a sum over tool rounds
            "current_context_tokens": usage.context_tokens if usage and usage.context_tokens is not None else prompt,
            "start_time": self.started_at,
            "end_time": time.time(),
            "time_to_first_token": round(self.first_token_at - self.started_at, 6) if self.first_token_at else 0.0,
        }

    def end(self) -> Event:
        return {"type": "end", "data": "", "streaming": False, "message_id": self.message_id}


async def astrbot_events(opening: list[Event], renderer: AstrBotEvents,
                         events: AsyncIterator[ev.ChatEvent]) -> AsyncIterator[Event]:
    """The whole stream of one turn: the opening events, then each ChatEvent rendered."""
    try:
        for event in opening:
            yield event
        async for chat_event in events:
            for out in renderer.render(chat_event):
                yield out
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()


async def sse_bytes(events: AsyncIterator[Event]) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            yield encode_sse(event)
    finally:
        await events.aclose()  # type: ignore[attr-defined]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def pushed_events(payload: dict[str, Any]) -> list[Event]:
    """A proactive message (ProactiveService's push) as AstrBot streams one into a live session:
    its parts with `"streaming": true`, then `complete`."""
    message_id = str(payload.get("message_id", ""))
    session_id = payload.get("session_id")
    out: list[Event] = []
    for part in payload.get("parts", []):
        if part.get("type") == "text" and part.get("text"):
            out.append({"type": "plain", "data": part["text"], "streaming": True, "chain_type": None,
                        "message_id": message_id, "session_id": session_id})
        elif part.get("file_id"):
            name, prefix = _MEDIA.get(str(part.get("type")), _MEDIA["file"])
            suffix = f"|{part['name']}" if name == "file" and part.get("name") else ""
            out.append({"type": name, "data": prefix + str(part["file_id"]) + suffix, "streaming": True,
                        "message_id": message_id, "session_id": session_id})
    out.append({"type": "complete", "data": payload.get("text", ""), "streaming": True, "chain_type": None,
                "message_id": message_id, "session_id": session_id})
    return out
