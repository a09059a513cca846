"""The native face writes a message as a plain dict (the plain turn's answer, the message list):
it must be exactly what the documented MessageOut model's JSON dump gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from switchboard.core.domain.conversations import Message, MessageStatus, Part, TokenUsage, ToolCall
from switchboard.faces.native.mapping import message_out
from switchboard.faces.native.schemas import FileOut, MessageOut

WHEN = datetime(2026, 12, 6, 22, 1, 2, 345678, tzinfo=UTC)


def as_model(m: Message) -> dict[str, Any]:
    files = [FileOut(id=p.file_id, name=p.name or "file", mime=p.mime or "application/octet-stream",
                     size=p.size or 0, kind=p.type if p.type != "text" else "file") for p in m.parts if p.file_id]
    return MessageOut(
        id=m.id, conversation_id=m.conversation_id, role=m.role, content=m.text,
        parts=[p.model_dump(exclude_none=True) for p in m.parts], reasoning=m.reasoning,
        tool_calls=[c.model_dump() for c in m.tool_calls], tool_call_id=m.tool_call_id, name=m.name,
        status=m.status.value, model=m.model,
        usage={"prompt_tokens": m.usage.prompt_tokens, "completion_tokens": m.usage.completion_tokens}
        if m.usage else None,
        error=m.error, created_at=m.created_at, updated_at=m.updated_at, files=files,
    ).model_dump(mode="json")


MESSAGES = [
    Message(id=1, conversation_id="c", role="user", parts=[Part(text="hi")], status=MessageStatus.COMPLETED,
            created_at=WHEN, updated_at=WHEN.replace(microsecond=0)),
    Message(id=2, conversation_id="c", role="assistant", parts=[
        Part(text="look"), Part(type="image", file_id="f1", name="a.png", mime="image/png", size=12),
        Part(type="file", file_id="f2"), Part(type="image", url="https://example.com/x.png"),
    ], status=MessageStatus.FAILED, created_at=WHEN, updated_at=WHEN + timedelta(seconds=1), reasoning="hmm",
        tool_calls=[ToolCall(id="t", name="n", arguments="{}")], model="m", error="broke",
        usage=TokenUsage(prompt_tokens=3, completion_tokens=4, estimated=True)),
    Message(id=3, conversation_id="c", role="tool", parts=[], status=MessageStatus.STREAMING, tool_call_id="t",
            name="n", created_at=WHEN.astimezone(timezone(timedelta(hours=8))),
            updated_at=WHEN.replace(tzinfo=None)),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.role)
def test_message_out_is_the_documented_models_json(message: Message) -> None:
    assert orjson.dumps(message_out(message)) == orjson.dumps(as_model(message))
