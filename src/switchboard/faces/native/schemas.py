"""Wire DTOs of the native API, spelled as seed 004 spells them. `...Body` in, `...Out` out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from switchboard.core.domain.users import Scope
from switchboard.faces._shared.bounds import PositiveCount, RowId, TokenCount


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class RegisterBody(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    email: str | None = Field(default=None, max_length=254)


class LoginBody(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class ConversationBody(_Body):
    project_id: str | None = Field(default=None, max_length=100)
    title: str = Field(default="New conversation", max_length=200)
    model: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int = Field(default=65536, ge=1, le=1_000_000)
    thinking_enabled: bool = False
    tools_enabled: bool = True
    # a chat profile (GET /api/profiles): its model, persona, temperature and tools apply wherever
    # the fields above are left unset, and follow the profile when an administrator changes it
    profile_id: str | None = Field(default=None, min_length=1, max_length=64)


class ConversationPatchBody(_Body):
    project_id: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    thinking_enabled: bool | None = None
    tools_enabled: bool | None = None


class ImageRef(_Body):
    file_id: str | None = Field(default=None, max_length=100)
    url: str | None = Field(default=None, max_length=2_000_000)


class FileRef(_Body):
    file_id: str = Field(min_length=1, max_length=100)


FileId = Annotated[str, Field(min_length=1, max_length=100)]


class MessageBody(_Body):
    """A new user message; or, with `regenerate`, a new answer to the last one (see routes_chat)."""

    conversation_id: str = Field(min_length=1, max_length=100)
    # optional fields default to None, not to a value: generated client types then leave them optional
    content: str | None = Field(default=None, max_length=1_000_000)
    tools_enabled: bool | None = None
    model: str | None = Field(default=None, max_length=200)
    images: list[ImageRef] = Field(default_factory=list, max_length=16)
    # files from POST /api/files, by id or as {file_id} (both spellings are in use by clients)
    files: list[FileId | FileRef] = Field(default_factory=list, max_length=16)
    # a new answer to the last user message (its old answer is superseded); no new user message
    regenerate: bool | None = None
    # edit-and-resend: the last user message (this id) is superseded by `content`/`files`, then answered
    edit_message_id: RowId | None = None

    @property
    def file_ids(self) -> list[str]:
        return [f if isinstance(f, str) else f.file_id for f in self.files]


class KeyBody(_Body):
    name: str = Field(default="default", max_length=100)
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.CHAT, Scope.FILE])
    expires_days: int | None = Field(default=None, ge=1, le=3650)
    allowed_models: list[str] = Field(default_factory=list, max_length=200)
    rpm_limit: PositiveCount | None = None
    tpm_limit: PositiveCount | None = None
    token_quota: PositiveCount | None = None


class KeyPatchBody(_Body):
    """Only the fields sent change; null removes a limit."""

    name: str = Field(default="default", min_length=1, max_length=100)
    allowed_models: list[str] = Field(default_factory=list, max_length=200)
    rpm_limit: PositiveCount | None = None
    tpm_limit: PositiveCount | None = None
    token_quota: PositiveCount | None = None


class UserCreateBody(_Body):
    """An account made by an administrator (registration's rules, even while registration is closed)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    email: str | None = Field(default=None, max_length=254)
    role: Literal["user", "admin"] = "user"
    token_allowance: TokenCount | None = None  # None: what a registration gets
    unlimited: bool | None = None


class UserPatchBody(_Body):
    password: str | None = Field(default=None, min_length=1, max_length=256)  # a reset: sessions end
    is_active: bool | None = None
    role: Literal["user", "admin"] | None = None
    token_allowance: TokenCount | None = None
    unlimited: bool | None = None
    add_tokens: PositiveCount | None = None
    release_reserved: bool = False  # free tokens held by calls that will never settle (a crashed worker)
    tools: list[str] | None = Field(default=None, max_length=500)  # names or categories; null = no limit


SettingValue = Annotated[str, Field(max_length=2000)] | int | float | bool | None


class SettingsBody(RootModel[dict[str, SettingValue]]):
    """`{key: value, ...}`: the runtime settings to change (GET /api/admin/settings lists them)."""

    root: dict[str, SettingValue] = Field(max_length=100)


class McpServerBody(_Body):
    """One entry of the Claude-desktop `mcpServers` map: a command (stdio) or a url (http/sse)."""

    command: str | None = Field(default=None, max_length=4096)
    args: list[str] = Field(default_factory=list, max_length=200)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = Field(default=None, max_length=4096)
    headers: dict[str, str] = Field(default_factory=dict)
    transport: str | None = Field(default=None, max_length=40)
    type: str | None = Field(default=None, max_length=40)  # how Claude Code / Cursor spell the transport
    description: str = Field(default="", max_length=2000)
    disabled: bool = False


class UserOut(BaseModel):
    id: int
    username: str
    email: str | None = None
    role: str
    is_active: bool
    created_at: datetime | None = None


class ConversationOut(BaseModel):
    id: str
    user_id: int
    title: str
    project_id: str | None
    model: str | None
    system_prompt: str | None
    temperature: float | None
    max_tokens: int
    thinking_enabled: bool
    tools_enabled: bool
    created_at: datetime
    updated_at: datetime
    origin: str  # where it started: native, astrbot, musebot, miochat, chatgpt_proxy, openai, onebot ...
    profile_id: str | None  # the chat profile it follows, if any


class ProfileChoiceOut(BaseModel):
    """A chat profile as any user sees it to pick one: never its system prompt (administrators only)."""

    id: str
    name: str
    model: str | None
    temperature: float | None
    tools_enabled: bool
    has_persona: bool  # whether it sets a system prompt, without showing the prompt
    is_default: bool


class FileOut(BaseModel):
    id: str
    name: str
    mime: str
    size: int
    kind: Literal["image", "audio", "video", "file"]


class MessageOut(BaseModel):
    id: int
    conversation_id: str
    role: str
    content: str
    parts: list[dict[str, Any]]
    reasoning: str
    tool_calls: list[dict[str, Any]]
    tool_call_id: str | None
    name: str | None
    status: str
    model: str | None
    usage: dict[str, int] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    files: list[FileOut] = Field(default_factory=list)  # its attachments, to show after a reload
