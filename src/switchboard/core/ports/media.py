"""Providers' non-chat APIs in the OpenAI shape (images, audio, embeddings, video jobs)."""

from __future__ import annotations

from typing import Any, Protocol

from switchboard.core.domain.conversations import TokenUsage
from switchboard.core.domain.media import GeneratedImage, VideoJob


class MediaProvider(Protocol):
    name: str

    async def generate_images(
        self, model: str, prompt: str, *, n: int = 1, size: str | None = None, extra: dict[str, Any] | None = None
    ) -> list[GeneratedImage]: ...

    async def edit_image(
        self, model: str, image: bytes, prompt: str, *, mime: str = "image/png", n: int = 1, size: str | None = None
    ) -> list[GeneratedImage]: ...

    async def transcribe(
        self, model: str, audio: bytes, *, filename: str, mime: str, language: str | None = None
    ) -> str: ...

    async def speech(self, model: str, text: str, *, voice: str = "alloy", audio_format: str = "mp3") -> bytes: ...

    async def embed(self, model: str, inputs: list[str]) -> tuple[list[list[float]], TokenUsage]: ...

    async def create_video(
        self, model: str, prompt: str, *, seconds: int | None = None, size: str | None = None
    ) -> VideoJob: ...

    async def video_status(self, job_id: str) -> VideoJob: ...

    async def video_content(self, job_id: str) -> bytes: ...

    async def download(self, url: str) -> tuple[bytes, str]:
        """Fetch a provider-hosted result (an image URL) -> (bytes, mime)."""
        ...


class MediaCatalog(Protocol):
    async def resolve_media(self, model: str) -> tuple[MediaProvider, str]:
        """The provider serving a media model (images, audio, video, embeddings) and its upstream name;
        UnknownModel when none does."""
        ...
