"""The media side of slash commands: what an uploaded body is, /photo, /video and transcription."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from switchboard.core.domain.conversations import TokenUsage
from switchboard.core.domain.errors import UnknownModel
from switchboard.core.domain.files import StoredFile
from switchboard.core.domain.users import Principal
from switchboard.core.ports.system import TokenCounter
from switchboard.core.services.admin.runtime_config import RuntimeConfigService
from switchboard.core.services.media.generation import MediaService

log = logging.getLogger(__name__)

NO_VIDEO = "No video provider is configured, so /video cannot make videos. Ask an administrator to set one up.\n"

# magic numbers -> (kind, mime); RIFF and ISO containers are told apart below
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image", "image/png"),
    (b"\xff\xd8\xff", "image", "image/jpeg"),
    (b"GIF87a", "image", "image/gif"),
    (b"GIF89a", "image", "image/gif"),
    (b"OggS", "audio", "audio/ogg"),
    (b"fLaC", "audio", "audio/flac"),
    (b"ID3", "audio", "audio/mpeg"),
    (b"\xff\xfb", "audio", "audio/mpeg"),
    (b"\xff\xf3", "audio", "audio/mpeg"),
    (b"\xff\xf2", "audio", "audio/mpeg"),
    (b"#!AMR", "audio", "audio/amr"),
    (b"\x1aE\xdf\xa3", "audio", "audio/webm"),
)
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
               "audio/ogg": "ogg", "audio/flac": "flac", "audio/mpeg": "mp3", "audio/amr": "amr",
               "audio/webm": "webm", "audio/wav": "wav", "audio/mp4": "m4a"}

MediaChunk = str | StoredFile | TokenUsage


@dataclass(frozen=True, slots=True)
class Upload:
    """A raw request body, recognised by its first bytes."""

    data: bytes
    kind: str  # image | audio | unknown
    mime: str

    @property
    def filename(self) -> str:
        return f"upload.{_EXTENSIONS.get(self.mime, 'bin')}"


def sniff(data: bytes) -> Upload:
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return Upload(data, "image", "image/webp") if head[8:12] == b"WEBP" else Upload(data, "audio", "audio/wav")
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso"):
        return Upload(data, "audio", "audio/mp4")
    for signature, kind, mime in _SIGNATURES:
        if head.startswith(signature):
            return Upload(data, kind, mime)
    return Upload(data, "unknown", "application/octet-stream")


class MediaCommands:
    def __init__(self, media: MediaService, runtime: RuntimeConfigService, counter: TokenCounter) -> None:
        self._media = media
        self._runtime = runtime
        self._counter = counter

    async def transcribe(self, acting: Principal, upload: Upload) -> str:
        model = self._runtime.current.audio.transcription_model
        return await self._media.transcribe(acting, upload.data, filename=upload.filename, mime=upload.mime,
                                            model=model)

    async def photo(self, acting: Principal, prompt: str, upload: Upload | None) -> AsyncIterator[MediaChunk]:
        if not prompt:
            yield "Please describe the picture after /photo (send an image as the body to edit it).\n"
            return
        photo = self._runtime.current.photo
        if upload is not None and upload.kind == "image":
            images = await self._media.edit_image(acting, upload.data, prompt, mime=upload.mime,
                                                  model=photo.image_edit_model, size=photo.image_size)
        else:
            images = await self._media.generate_images(acting, prompt, model=photo.image_model, size=photo.image_size)
        for image in images:
            yield image
        yield TokenUsage(prompt_tokens=self._counter.count_text(prompt), estimated=True)

    async def video(self, acting: Principal, prompt: str, *, progress: bool = True) -> AsyncIterator[MediaChunk]:
        """The video as a stored file; with `progress`, lines on the job's way there (else logged)."""
        if not prompt:
            yield "Please describe the video after /video.\n"
            return
        video = self._runtime.current.video
        if not video.video_model:
            yield NO_VIDEO
            return
        try:
            job = await self._media.create_video(acting, prompt, model=video.video_model,
                                                 seconds=video.video_seconds, size=video.video_size)
        except UnknownModel:
            yield NO_VIDEO
            return
        log.info("video job %s started for user %s", job.id, acting.user_id)
        if progress:
            yield f"🎬 Video job {job.id} started.\n"
        deadline = asyncio.get_running_loop().time() + video.video_max_wait_seconds
        while job.status not in ("completed", "failed"):
            if asyncio.get_running_loop().time() > deadline:
                yield f"The video was not ready within {video.video_max_wait_seconds:g} seconds; giving up.\n"
                return
            await asyncio.sleep(video.video_poll_seconds)
            job = await self._media.video_status(acting, job.id)
            log.info("video job %s: %s %s%%", job.id, job.status, job.progress)
            if progress:
                yield f"⏳ {job.status} {job.progress}%\n"
        if job.status == "failed":
            yield f"The video could not be made: {job.error or 'the provider gave no reason'}.\n"
            return
        yield await self._media.video_file(acting, job.id)
        yield TokenUsage(prompt_tokens=self._counter.count_text(prompt), estimated=True)
