"""Images, speech, transcripts, embeddings and videos for any face, with files and usage handled.

    images = await media.generate_images(principal, "a red fox")         # -> [StoredFile, ...]
    text = await media.transcribe(principal, audio, filename="a.ogg", mime="audio/ogg")
    job = await media.create_video(principal, "waves"); stored = await media.wait_video(principal, job.id)

Every call holds a little of the user's allowance first (so an exhausted quota refuses media too),
then settles what the provider reported and writes one usage entry (source image | audio | speech |
embedding | video) with the principal's key. Generated files are stored through FileService and
belong to the caller.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from switchboard.core.domain.conversations import TokenUsage
from switchboard.core.domain.errors import InvalidInput, UpstreamError, UpstreamTimeout
from switchboard.core.domain.files import StoredFile
from switchboard.core.domain.media import GeneratedImage, VideoJob
from switchboard.core.domain.quotas import UsageEntry
from switchboard.core.domain.users import Principal
from switchboard.core.ports.media import MediaCatalog, MediaProvider
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock, TokenCounter
from switchboard.core.services.media.files import FileService
from switchboard.core.services.quotas.allowances import Hold, QuotaService

T = TypeVar("T")
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif",
               "audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg", "audio/opus": "opus",
               "audio/aac": "aac", "audio/flac": "flac", "video/mp4": "mp4"}
_SPEECH_MIME = {"mp3": "audio/mpeg", "wav": "audio/wav", "opus": "audio/opus", "aac": "audio/aac",
                "flac": "audio/flac", "pcm": "audio/pcm"}
_REMEMBERED_JOBS = 1000


@dataclass(frozen=True, slots=True)
class MediaDefaults:
    image_model: str = "gpt-image-1"
    image_edit_model: str = "gpt-image-1"
    transcription_model: str = "whisper-1"
    speech_model: str = "tts-1"
    embedding_model: str = "text-embedding-3-small"
    video_model: str = "sora-2"
    video_poll_seconds: float = 5.0


class MediaService:
    def __init__(
        self, catalog: MediaCatalog, files: FileService, quotas: QuotaService, uow: UnitOfWork,
        counter: TokenCounter, clock: Clock, defaults: MediaDefaults,
    ) -> None:
        self._catalog = catalog
        self._files = files
        self._quotas = quotas
        self._uow = uow
        self._counter = counter
        self._clock = clock
        self.defaults = defaults
        # which provider runs a video job (bounded; a job unknown here is asked of the default model)
        self._jobs: OrderedDict[str, tuple[MediaProvider, str]] = OrderedDict()

    async def generate_images(
        self, principal: Principal, prompt: str, *, model: str | None = None, n: int = 1, size: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> list[StoredFile]:
        _need_text(prompt, "prompt")
        provider, name, wanted = await self._resolve(model, self.defaults.image_model)
        images = await self._metered(principal, wanted, "image", prompt, lambda: provider.generate_images(
            name, prompt, n=n, size=size, extra=extra))
        return [await self._store_image(principal, provider, image, i) for i, image in enumerate(images)]

    async def edit_image(
        self, principal: Principal, image: bytes, prompt: str, *, mime: str = "image/png", model: str | None = None,
        n: int = 1, size: str | None = None,
    ) -> list[StoredFile]:
        _need_text(prompt, "prompt")
        if not image:
            raise InvalidInput("the image to edit is empty", param="image")
        provider, name, wanted = await self._resolve(model, self.defaults.image_edit_model)
        images = await self._metered(principal, wanted, "image", prompt, lambda: provider.edit_image(
            name, image, prompt, mime=mime, n=n, size=size))
        return [await self._store_image(principal, provider, item, i) for i, item in enumerate(images)]

    async def transcribe(
        self, principal: Principal, audio: bytes, *, filename: str, mime: str, model: str | None = None,
        language: str | None = None,
    ) -> str:
        if not audio:
            raise InvalidInput("the audio file is empty", param="file")
        provider, name, wanted = await self._resolve(model, self.defaults.transcription_model)
        text = await self._metered(principal, wanted, "audio", "", lambda: provider.transcribe(
            name, audio, filename=filename, mime=mime, language=language))
        return text

    async def speech(
        self, principal: Principal, text: str, *, model: str | None = None, voice: str = "alloy",
        audio_format: str = "mp3", store: bool = True,
    ) -> tuple[bytes, str, StoredFile | None]:
        """The audio, its mime type, and the stored file (None with store=False)."""
        _need_text(text, "input")
        provider, name, wanted = await self._resolve(model, self.defaults.speech_model)
        audio = await self._metered(principal, wanted, "speech", text, lambda: provider.speech(
            name, text, voice=voice, audio_format=audio_format))
        mime = _SPEECH_MIME.get(audio_format, "application/octet-stream")
        stored = await self._files.store(principal.user_id, f"speech.{audio_format}", mime, audio) if store else None
        return audio, mime, stored

    async def embed(
        self, principal: Principal, inputs: list[str], *, model: str | None = None
    ) -> tuple[list[list[float]], TokenUsage]:
        if not inputs:
            raise InvalidInput("input must hold at least one text", param="input")
        provider, name, wanted = await self._resolve(model, self.defaults.embedding_model)
        estimate = sum(self._counter.count_text(text) for text in inputs)
        hold = await self._quotas.reserve(principal, estimate, 1)
        try:
            vectors, usage = await provider.embed(name, inputs)
        except BaseException:
            await self._quotas.release(hold)
            raise
        usage = usage if usage.prompt_tokens else TokenUsage(prompt_tokens=estimate, estimated=True)
        await self._settle(principal, hold, wanted, "embedding", usage)
        return vectors, usage

    async def create_video(
        self, principal: Principal, prompt: str, *, model: str | None = None, seconds: int | None = None,
        size: str | None = None,
    ) -> VideoJob:
        _need_text(prompt, "prompt")
        provider, name, wanted = await self._resolve(model, self.defaults.video_model)
        job = await self._metered(principal, wanted, "video", prompt, lambda: provider.create_video(
            name, prompt, seconds=seconds, size=size))
        self._jobs[job.id] = (provider, name)
        while len(self._jobs) > _REMEMBERED_JOBS:
            self._jobs.popitem(last=False)
        return job

    async def video_status(self, principal: Principal, job_id: str, *, model: str | None = None) -> VideoJob:
        provider = await self._job_provider(job_id, model)
        return await provider.video_status(job_id)

    async def video_file(self, principal: Principal, job_id: str, *, model: str | None = None) -> StoredFile:
        provider = await self._job_provider(job_id, model)
        data = await provider.video_content(job_id)
        return await self._files.store(principal.user_id, f"{job_id}.mp4", "video/mp4", data)

    async def wait_video(
        self, principal: Principal, job_id: str, *, model: str | None = None, max_wait: float = 900.0,
        on_progress: Callable[[VideoJob], Awaitable[None]] | None = None,
    ) -> StoredFile:
        """Polls every `video_poll_seconds` until the job is done, then stores the video."""
        try:
            async with asyncio.timeout(max_wait):
                while True:
                    job = await self.video_status(principal, job_id, model=model)
                    if on_progress is not None:
                        await on_progress(job)
                    if job.status == "completed":
                        return await self.video_file(principal, job_id, model=model)
                    if job.status == "failed":
                        raise UpstreamError(f"the video could not be made: {job.error or 'no reason given'}")
                    await asyncio.sleep(self.defaults.video_poll_seconds)
        except TimeoutError as exc:
            raise UpstreamTimeout(f"the video was not ready within {max_wait:g} s") from exc

    # -- helpers ------------------------------------------------------------------------------
    async def _resolve(self, model: str | None, default: str) -> tuple[MediaProvider, str, str]:
        wanted = model or default
        provider, name = await self._catalog.resolve_media(wanted)
        return provider, name, wanted

    async def _metered(
        self, principal: Principal, model: str, source: str, prompt: str, call: Callable[[], Awaitable[T]]
    ) -> T:
        """Holds the prompt's estimate (and refuses an exhausted allowance) around one call."""
        estimate = self._counter.count_text(prompt) if prompt else 0
        hold = await self._quotas.reserve(principal, estimate, 1)
        try:
            result = await call()
        except BaseException:
            await self._quotas.release(hold)
            raise
        await self._settle(principal, hold, model, source, TokenUsage(prompt_tokens=estimate, estimated=True))
        return result

    async def _settle(self, principal: Principal, hold: Hold, model: str, source: str, usage: TokenUsage) -> None:
        entry = UsageEntry(
            user_id=principal.user_id, tokens_prompt=usage.prompt_tokens, tokens_completion=usage.completion_tokens,
            model=model, created_at=self._clock.now(), key_id=principal.key_id, source=source,
            estimated=usage.estimated,
        )
        async with self._uow() as tx:
            await self._quotas.settle_in(tx, hold, entry)

    async def _store_image(
        self, principal: Principal, provider: MediaProvider, image: GeneratedImage, index: int
    ) -> StoredFile:
        data, mime = image.data, image.mime
        if data is None and image.url:
            data, mime = await provider.download(image.url)
        if not data:
            raise UpstreamError("the provider returned an empty image")
        extension = _EXTENSIONS.get(mime, "bin")
        return await self._files.store(principal.user_id, f"image-{index + 1}.{extension}", mime, data)

    async def _job_provider(self, job_id: str, model: str | None) -> MediaProvider:
        known = self._jobs.get(job_id)
        if known is not None and model is None:
            return known[0]
        provider, _, _ = await self._resolve(model, self.defaults.video_model)
        return provider


def _need_text(text: str, param: str) -> None:
    if not text or not text.strip():
        raise InvalidInput(f"{param} must not be empty", param=param)
