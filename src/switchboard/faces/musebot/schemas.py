"""Wire DTOs of the MuseBot API, spelled as MuseBot spells them. `...Body` in, `...Out` out."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.faces._shared.bounds import MAX_TOKENS


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TokenAddBody(_Body):
    user_id: str = Field(min_length=1, max_length=200)
    token: Annotated[int, Ge(-MAX_TOKENS), Le(MAX_TOKENS)]  # negative: a correction, as MuseBot allows

    @field_validator("user_id", mode="before")
    @classmethod
    def _numbers_too(cls, value: Any) -> Any:
        # older MuseBot sends the id as a JSON number (int64), newer ones as a string
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ConfUpdateBody(_Body):
    type: str = Field(min_length=1, max_length=20)
    key: str = Field(min_length=1, max_length=100)
    value: Any = None


class McpServerBody(BaseModel):
    """One `mcpServers` entry (MuseBot's MCPConfig); keys other clients add are kept and ignored later."""

    model_config = ConfigDict(extra="allow")

    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str] | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    type: str | None = None
    transport: str | None = None
    description: str | None = None
    disabled: bool | None = None


class UserOut(BaseModel):
    id: int
    user_id: str
    mode: str
    token: int  # tokens used
    updatetime: int
    avail_token: int  # the allowance


class RecordOut(BaseModel):
    id: int
    user_id: str
    question: str
    answer: str
    content: str
    token: int
    is_deleted: int
    create_time: int
    record_type: int
