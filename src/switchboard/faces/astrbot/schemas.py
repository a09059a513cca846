"""Wire DTOs of AstrBot's Open API (seed 003), spelled as AstrBot spells them.

Bodies are lenient the way AstrBot is: everything optional, numbers accepted where text is
expected, unknown keys ignored; what is missing is reported by the handler in AstrBot's words
("Missing key: username") as a business error."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class MessagePartBody(_Body):
    type: str = Field(max_length=20)
    text: str | None = Field(default=None, max_length=1_000_000)
    message_id: str | None = Field(default=None, max_length=100)
    selected_text: str | None = Field(default=None, max_length=100_000)
    attachment_id: str | None = Field(default=None, max_length=100)
    filename: str | None = Field(default=None, max_length=300)
    path: str | None = Field(default=None, max_length=4096)


WireMessage = str | list[MessagePartBody]


class ChatBody(_Body):
    message: WireMessage | None = None
    username: str | None = Field(default=None, max_length=200)
    session_id: str | None = Field(default=None, max_length=200)
    conversation_id: str | None = Field(default=None, max_length=200)  # alias of session_id
    selected_provider: str | None = Field(default=None, max_length=200)
    selected_model: str | None = Field(default=None, max_length=200)
    enable_streaming: bool | None = None
    config_id: str | None = Field(default=None, max_length=100)
    config_name: str | None = Field(default=None, max_length=100)

    @property
    def streaming(self) -> bool:
        return self.enable_streaming is not False

    @property
    def requested_session(self) -> str:
        chosen = self.session_id if self.session_id is not None else self.conversation_id
        return (chosen or "").strip()


class ChatFrame(ChatBody):
    """A WebSocket frame from the client: `{"t": "send", ...ChatBody}` or `{"t": "ping"}`."""

    t: str = "send"
    message_id: str | None = Field(default=None, max_length=100)


class SendMessageBody(_Body):
    umo: str | None = Field(default=None, max_length=500)
    message: WireMessage | None = None


class ConfigOut(BaseModel):
    id: str
    name: str
    path: str
    is_default: bool


class BotAccountOut(BaseModel):
    id: str  # the bot's account on the platform (a QQ number)
    online: bool


class BotOut(BaseModel):
    """A configured IM platform and its connection (Switchboard's addition to im/bots)."""

    id: str
    type: str
    status: str
    running: bool
    detail: str | None
    accounts: list[BotAccountOut]


class SessionOut(BaseModel):
    session_id: str
    platform_id: str
    creator: str
    display_name: str | None
    is_group: Literal[0, 1] = 0
    created_at: str
    updated_at: str


class UploadOut(BaseModel):
    attachment_id: str
    filename: str
    type: str
