"""Mio-Chat's wire frames (seed 000 and the real 2024 client), spelled as they travel.

Every client frame is one envelope `{"request_id", "protocol", "type"?, "data"}`; a reply carries
the request's `request_id` and `code` (0 ok, 1 failed), `message` and `data`. OneBot messages nest
a second envelope in `data` (`{"id": <contact>, "type": "message", "data": {...}}` or `content`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RequestId = int | str | None


class RequestFrame(BaseModel):
    """Any client frame; `data` is validated per protocol/type by the models below."""

    model_config = ConfigDict(extra="allow")

    request_id: RequestId = None
    protocol: str
    type: str | None = None
    # the contact a onebot frame is for: the client's `fetch("/api/onebot/message/<id>")` puts the
    # path's last segment here (frontend src/lib/websocket.js `fetch`, src/lib/adapter/onebot.js)
    id: str | int | None = None
    data: Any = None


class HttpFrame(RequestFrame):
    """The same envelope over HTTP POST, where the path already says the protocol and type."""

    protocol: str | None = None  # type: ignore[assignment]


class LoginData(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    client_id: str | int | None = Field(default=None, alias="mio-chat-id")
    token: str | None = Field(default=None, alias="mio-chat-token")


class HeartbeatData(BaseModel):
    model_config = ConfigDict(extra="allow")

    timestamp: int | float | str | None = None


class ContentPart(BaseModel):
    """An OpenAI content part: `{"type": "text", "text"}` or `{"type": "image_url", "image_url": {"url"}}`."""

    model_config = ConfigDict(extra="allow")

    type: str = "text"
    text: str | None = None
    image_url: dict[str, Any] | str | None = None


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None


class CompletionsData(BaseModel):
    """`openai/completions`: the client keeps the history and sends all of it every time."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=1000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)


class Segment(BaseModel):
    """A OneBot v11 message segment: `{"type": "text"|"image"|..., "data": {...}}`."""

    model_config = ConfigDict(extra="allow")

    type: str
    data: dict[str, Any] = Field(default_factory=dict)


class OnebotMessageData(BaseModel):
    model_config = ConfigDict(extra="allow")

    message: list[Segment] = Field(min_length=1, max_length=100)
    message_id: int | str | None = None


class OnebotEnvelope(BaseModel):
    """The OneBot envelope inside `data`: the contact, what to do, and its arguments."""

    model_config = ConfigDict(extra="allow")

    id: str | int | None = None
    type: str | None = None
    data: Any = None
    content: Any = None


class DeleteData(BaseModel):
    model_config = ConfigDict(extra="allow")

    message_id: int | str


class ForwardNode(BaseModel):
    model_config = ConfigDict(extra="allow")

    message_id: int | str | None = None
    message: list[Segment] = Field(default_factory=list, max_length=100)


class InterruptData(BaseModel):
    """`openai/interrupt`: stops the request named here, or the frame's own `request_id`."""

    model_config = ConfigDict(extra="allow")

    request_id: RequestId = None


class ReplyFrame(BaseModel):
    """What the server sends back for a request (and for its streamed updates)."""

    request_id: RequestId = None
    protocol: str | None = None
    type: str | None = None  # only where the real backend sends one (system replies)
    code: int = 0
    message: str = "success"
    data: dict[str, Any] = Field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        out = self.model_dump()
        for key in ("protocol", "type"):
            if out[key] is None:
                del out[key]
        return out


class ShareBody(BaseModel):
    """`POST /api/share/set` (and `/api/share`): the whole contactor as the browser holds it."""

    model_config = ConfigDict(extra="allow")

    contactor: dict[str, Any]
