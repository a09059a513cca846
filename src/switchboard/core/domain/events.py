"""What the engine tells a face while a turn runs. Plain slotted dataclasses: cheap in the token loop.

A turn yields: Started, then any mix of TextDelta / ReasoningDelta / tool events / Attachment, then
Usage, MessageSaved and Done — or Failed (after which nothing else comes).
Provider adapters yield the provider-level subset: TextDelta, ReasoningDelta, ToolCallDelta, Usage, Finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from switchboard.core.domain.conversations import TokenUsage


@dataclass(frozen=True, slots=True)
class Started:
    conversation_id: str
    message_id: int
    user_message_id: int | None
    model: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    call_id: str
    name: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallArgsDelta:
    call_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class ToolCallRunning:
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolResult:
    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Attachment:
    file_id: str
    kind: str  # image | audio | video | file
    mime: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """A provider's report for one request; the turn's own sums over its tool rounds, where
    `context_tokens` is the prompt of its last request (how full the context is now)."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False
    context_tokens: int | None = None  # None: not known apart from prompt_tokens


@dataclass(frozen=True, slots=True)
class MessageSaved:
    message_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Done:
    message_id: int
    content: str
    reasoning: str
    usage: TokenUsage
    finish_reason: str = "stop"


@dataclass(frozen=True, slots=True)
class Failed:
    code: str
    message: str
    message_id: int | None = None


# provider-level only
@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class Finish:
    reason: str


ChatEvent = (
    Started | TextDelta | ReasoningDelta | ToolCallStarted | ToolCallArgsDelta | ToolCallRunning
    | ToolResult | Attachment | Usage | MessageSaved | Done | Failed
)
ProviderEvent = TextDelta | ReasoningDelta | ToolCallDelta | Usage | Finish
