"""A turn asked of the engine, a call handed to a provider, and what is known of models and providers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from switchboard.core.domain.conversations import Part


class PriorTurn(BaseModel):
    """A turn the client keeps itself and sends again with every request (Mio-Chat's openai
    protocol keeps its history client-side)."""

    role: Literal["system", "user", "assistant"]
    parts: list[Part] = Field(default_factory=list)


class ChatRequest(BaseModel):
    """One user turn in an existing conversation. Overrides apply to this turn only."""

    conversation_id: str
    parts: list[Part] = Field(default_factory=list)
    model: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    tools_enabled: bool | None = None
    # re-answer the last user message instead of adding a new one (MuseBot /retry, regenerate)
    regenerate: bool = False
    # edit-and-resend: `parts` supersede this message, which must be the last user message
    edit_message_id: int | None = None
    # extra OpenAI request fields passed through to the provider (presence_penalty, seed ...)
    extra: dict[str, Any] = Field(default_factory=dict)
    # the client's own history, shown to the model before the stored one; not stored itself
    prior: list[PriorTurn] = Field(default_factory=list)
    # False: the caller takes the whole answer at once (a plain reply, one IM message), so the
    # model is asked for it unstreamed: one response body instead of a chunk per token
    streamed: bool = True


@dataclass(slots=True)
class ProviderCall:
    """What a provider adapter sends upstream. Messages and tools are in the OpenAI wire shape,
    the lingua franca of every provider Switchboard talks to."""

    model: str
    messages: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)  # temperature, max_tokens, top_p, ...
    tools: list[dict[str, Any]] = field(default_factory=list)
    # False: nobody watches the answer grow; a provider may send it whole, as ONE list of events
    # (ChatRequest.streamed). A provider that can only stream ignores it.
    streamed: bool = True


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    provider: str
    owned_by: str
    builtin: bool = False  # the offline `echo` model and the like
    description: str = ""
    alias_of: str | None = None  # a configured alias: the model it names


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """How a configured provider is doing, for administrators: never its credentials."""

    name: str
    base_url: str  # without user info or query string (either may carry a key)
    models: tuple[str, ...]  # configured, or as last listed
    healthy: bool  # no failure since its last success, and its last model listing worked
    cooling_down_until: datetime | None  # left out of routing until then, after repeated failures
    last_error: str | None
