"""Non-chat model outputs: images, speech, transcripts, embeddings, videos."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes | None  # the image itself, when the provider returned base64
    url: str | None  # the provider's (often short-lived) link otherwise
    mime: str = "image/png"
    revised_prompt: str | None = None


@dataclass(frozen=True, slots=True)
class VideoJob:
    id: str
    status: str  # queued | in_progress | completed | failed
    progress: int = 0  # percent
    error: str | None = None
