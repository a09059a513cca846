"""Wire DTOs of the 2023 ChatGPT proxy (seed 001), spelled as it spells them (`initMessage`,
`inputFileId`, `fileId`). `...Body` in, `...Out` out. Unknown fields are ignored, as the
original (a thin wrapper over OpenAI's SDK) ignored them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IMAGE_SIZES = ("256x256", "512x512", "1024x1024", "1792x1024", "1024x1792")
ImageSize = Literal["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792"]
HARD_MAX_N = 128  # a ceiling for the schema; the configured `max_n` is the real limit


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ChatMessageIn(_Body):
    role: Literal["system", "user", "assistant"] = "user"
    content: str = Field(max_length=1_000_000)


class SamplingBody(_Body):
    model: str | None = Field(default=None, max_length=200)
    max_tokens: int | None = Field(default=None, ge=0, le=1_000_000)  # 0: the model's default (seed 001)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)


class CompletionsBody(SamplingBody):
    prompt: str | list[str] = Field(max_length=1_000_000)
    n: int = Field(default=1, ge=1, le=HARD_MAX_N)


class EditsBody(SamplingBody):
    input: str = Field(default="", max_length=1_000_000)
    instruction: str = Field(min_length=1, max_length=100_000)
    n: int = Field(default=1, ge=1, le=HARD_MAX_N)


class ChatBody(SamplingBody):
    chatcode: str | None = Field(default=None, max_length=100)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=1000)
    init_message: ChatMessageIn | None = Field(default=None, alias="initMessage")


class ImageBody(_Body):
    prompt: str = Field(min_length=1, max_length=4000)
    n: int = Field(default=1, ge=1, le=HARD_MAX_N)
    size: ImageSize = "1024x1024"
    response_format: Literal["url", "b64_json"] = "url"


class SendBody(_Body):
    text: str = Field(min_length=1, max_length=1_000_000)
    input_file_id: str | None = Field(default=None, max_length=100, alias="inputFileId")


class ChatOut(BaseModel):
    chatcode: str
    role: str = "assistant"
    content: str


class SendOut(BaseModel):
    text: str
    fileId: str  # spelled as the wire spells it


class ImageOut(BaseModel):
    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None
