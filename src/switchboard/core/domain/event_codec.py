"""ChatEvents as JSON-able dicts and back, for an answer's event log kept outside the process
(adapters.push.answer_redis).

`{"type": "TextDelta", "text": "Hi"}`: the class name and its fields; a datetime as ISO text, the
usage as its fields. Only the events a turn yields are known; anything else is refused."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from switchboard.core.domain import events as ev
from switchboard.core.domain.conversations import TokenUsage

_KINDS: dict[str, type[Any]] = {cls.__name__: cls for cls in (
    ev.Started, ev.TextDelta, ev.ReasoningDelta, ev.ToolCallStarted, ev.ToolCallArgsDelta, ev.ToolCallRunning,
    ev.ToolResult, ev.Attachment, ev.Usage, ev.MessageSaved, ev.Done, ev.Failed,
)}


def encode_event(event: ev.ChatEvent) -> dict[str, Any]:
    kind = type(event)
    if kind is ev.TextDelta or kind is ev.ReasoningDelta:  # the common case, kept cheap
        return {"type": kind.__name__, "text": event.text}  # type: ignore[union-attr]
    encoded: dict[str, Any] = {"type": kind.__name__}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, TokenUsage):
            value = value.model_dump()
        encoded[field.name] = value
    return encoded


def decode_event(encoded: dict[str, Any]) -> ev.ChatEvent:
    values = dict(encoded)
    kind = _KINDS[values.pop("type")]
    if kind is ev.MessageSaved:
        values["created_at"] = datetime.fromisoformat(values["created_at"])
    elif kind is ev.Done:
        values["usage"] = TokenUsage.model_validate(values["usage"])
    event: ev.ChatEvent = kind(**values)
    return event


def is_terminal(event: ev.ChatEvent) -> bool:
    """The answer's last event: nothing comes after it."""
    return isinstance(event, ev.Done | ev.Failed)
