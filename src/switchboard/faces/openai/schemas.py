"""Wire DTOs of the OpenAI API. Bodies are checked here but forwarded as the client sent them:
unknown fields (new OpenAI options, provider extensions) pass through untouched."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard.faces._shared.bounds import PositiveCount, TokenCount


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class ChatCompletionBody(_Body):
    model: str = Field(min_length=1, max_length=300)
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool | None = None
    stream_options: dict[str, Any] | None = None
    max_tokens: PositiveCount | None = None
    max_completion_tokens: PositiveCount | None = None
    n: int | None = Field(default=None, ge=1, le=128)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    tools: list[dict[str, Any]] | None = None


class CompletionBody(_Body):
    model: str = Field(min_length=1, max_length=300)
    prompt: str | list[Any] = ""
    stream: bool | None = None
    stream_options: dict[str, Any] | None = None
    max_tokens: TokenCount | None = None


class EmbeddingsBody(_Body):
    model: str = Field(min_length=1, max_length=300)
    input: str | list[Any]
    encoding_format: Literal["float", "base64"] | None = None


class ImagesBody(_Body):
    model: str = Field(default="", max_length=300)
    prompt: str = Field(min_length=1, max_length=32_000)
    n: int | None = Field(default=None, ge=1, le=10)
    size: str | None = None


class SpeechBody(_Body):
    model: str = Field(min_length=1, max_length=300)
    input: str = Field(min_length=1, max_length=4096)
    voice: str | dict[str, Any]


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str
    # Switchboard's own additions (OpenAI clients ignore unknown fields): built-in demo models
    # such as the offline `echo` say so, so nobody mistakes them for an LLM
    builtin: bool | None = None
    description: str | None = None


class ModelListOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail
