"""Message.with_id builds the copy field by field (for speed): it must carry every field over."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from switchboard.core.domain.conversations import Message, MessageStatus, TokenUsage, ToolCall, text_parts


def test_with_id_is_replace_for_every_field() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    message = Message(
        id=0, conversation_id="c", role="assistant", parts=text_parts("hi"), status=MessageStatus.STREAMING,
        created_at=now, updated_at=now + timedelta(seconds=1), reasoning="thought",
        tool_calls=[ToolCall(id="t", name="n", arguments="{}")], tool_call_id="t0", name="tool", model="m",
        usage=TokenUsage(prompt_tokens=3, completion_tokens=4), error="e", is_deleted=True, worker_id="w",
    )
    defaults = Message(id=0, conversation_id="", role="user", parts=[], status=MessageStatus.COMPLETED,
                       created_at=now - timedelta(days=1), updated_at=now - timedelta(days=1))
    # every field set above differs from its default, so one left out of with_id would show
    differing = {f.name for f in dataclasses.fields(Message) if getattr(message, f.name) != getattr(defaults, f.name)}
    assert differing == {f.name for f in dataclasses.fields(Message)} - {"id"}
    copy = message.with_id(42)
    assert copy == dataclasses.replace(message, id=42) and copy is not message and message.id == 0
