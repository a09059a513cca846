"""Conversations and their messages. A message is a list of parts plus what the model did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class MessageStatus(StrEnum):
    STREAMING = "streaming"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class Part(BaseModel):
    """One piece of message content. `text` for words; files by their stored id or a URL."""

    type: Literal["text", "image", "audio", "video", "file"] = "text"
    text: str | None = None
    file_id: str | None = None
    url: str | None = None
    mime: str | None = None
    name: str | None = None
    size: int | None = None  # bytes of an attached file, so a client can show it without fetching it


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: str = ""  # JSON text exactly as the model produced it


class TokenUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ConversationSettings(BaseModel):
    """What a conversation asks of the model; every field optional so defaults can apply."""

    model: str | None = None
    system_prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int = Field(default=65536, ge=1)
    thinking_enabled: bool = False
    tools_enabled: bool = True


@dataclass(slots=True)
class Conversation:
    id: str
    user_id: int
    title: str
    settings: ConversationSettings
    created_at: datetime
    updated_at: datetime
    project_id: str | None = None
    # which face or platform started it, and that side's own key for it (AstrBot username,
    # Mio-Chat contact, MuseBot user ...): lets each face find "its" conversation again.
    origin: str = "native"
    external_key: str | None = None
    profile_id: str | None = None
    meta: dict[str, object] = field(default_factory=dict)
    # bumped by storage on every write to its messages, by anyone; read, never written, by the
    # code (a worker's cached history is current while the revision it was cached at is)
    revision: int = 0


@dataclass(slots=True)
class Message:
    id: int
    conversation_id: str
    role: Literal["system", "user", "assistant", "tool"]
    parts: list[Part]
    status: MessageStatus
    created_at: datetime
    updated_at: datetime
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None  # tool name, on tool messages
    model: str | None = None
    usage: TokenUsage | None = None
    error: str | None = None
    is_deleted: bool = False
    # the worker process streaming it (see quotas.recovery): a `streaming` message whose worker
    # died is finished as `interrupted` by whoever notices
    worker_id: str | None = None

    @property
    def text(self) -> str:
        return "".join(p.text or "" for p in self.parts if p.type == "text")

    def with_id(self, id_: int) -> Message:
        """A copy with the id the database gave it. dataclasses.replace walks the field metadata
        and costs ten times this (twice per stored turn); a field added above is added here too
        (tests/unit/core/test_message_with_id.py checks that every field is carried over)."""
        return Message(
            id=id_, conversation_id=self.conversation_id, role=self.role, parts=self.parts, status=self.status,
            created_at=self.created_at, updated_at=self.updated_at, reasoning=self.reasoning,
            tool_calls=self.tool_calls, tool_call_id=self.tool_call_id, name=self.name, model=self.model,
            usage=self.usage, error=self.error, is_deleted=self.is_deleted, worker_id=self.worker_id,
        )


def text_parts(text: str) -> list[Part]:
    return [Part(type="text", text=text)] if text else []
