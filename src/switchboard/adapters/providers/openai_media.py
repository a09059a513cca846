"""The non-chat OpenAI APIs (images, audio, embeddings, video jobs) for OpenAICompatProvider.

A mixin, so media calls share the provider's pooled aiohttp session, its retries and its error
mapping (`_send`): a 429 or a 5xx is retried the same way as for chat, and every failure becomes
an UpstreamError that names the provider and never its key.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson

from switchboard.core.domain.conversations import TokenUsage
from switchboard.core.domain.errors import UpstreamError, UpstreamTimeout
from switchboard.core.domain.media import GeneratedImage, VideoJob

if TYPE_CHECKING:
    from collections.abc import Mapping

# a request body: JSON bytes, or a factory of multipart forms (a form can be sent only once, so
# every retry builds a fresh one)
Body = bytes | Callable[[], aiohttp.FormData] | None

_MAGIC = ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))
_VIDEO_STATES = {"queued": "queued", "pending": "queued", "in_progress": "in_progress", "processing": "in_progress",
                 "running": "in_progress", "completed": "completed", "succeeded": "completed", "failed": "failed",
                 "cancelled": "failed", "expired": "failed"}


class OpenAIMediaMixin:
    """Needs from its host: `name`, `_who`, `_base_url`, `_session()` and `_send(...)`."""

    name: str
    _who: str
    _base_url: str

    if TYPE_CHECKING:
        def _session(self) -> aiohttp.ClientSession: ...

        async def _send(
            self, method: str, path: str, body: Body, *, model: str | None, accept: str,
            retries: int | None = None,
        ) -> tuple[aiohttp.ClientResponse, float]: ...

    async def generate_images(
        self, model: str, prompt: str, *, n: int = 1, size: str | None = None, extra: dict[str, Any] | None = None
    ) -> list[GeneratedImage]:
        body: dict[str, Any] = {**(extra or {}), "model": model, "prompt": prompt, "n": n}
        if size:
            body["size"] = size
        payload = await self._json("POST", "/images/generations", orjson.dumps(body), model)
        return [self._image(item) for item in _items(payload)]

    async def edit_image(
        self, model: str, image: bytes, prompt: str, *, mime: str = "image/png", n: int = 1, size: str | None = None
    ) -> list[GeneratedImage]:
        fields = {"model": model, "prompt": prompt, "n": str(n), **({"size": size} if size else {})}
        extension = mime.rsplit("/", 1)[-1]
        form = _form(fields, ("image", image, f"image.{extension}", mime))
        payload = await self._json("POST", "/images/edits", form, model)
        return [self._image(item) for item in _items(payload)]

    async def transcribe(
        self, model: str, audio: bytes, *, filename: str, mime: str, language: str | None = None
    ) -> str:
        fields = {"model": model, "response_format": "json", **({"language": language} if language else {})}
        payload = await self._json("POST", "/audio/transcriptions", _form(fields, ("file", audio, filename, mime)),
                                   model)
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str):
            raise UpstreamError(f"{self._who}: the transcription answer has no text")
        return text

    async def speech(self, model: str, text: str, *, voice: str = "alloy", audio_format: str = "mp3") -> bytes:
        body = {"model": model, "input": text, "voice": voice, "response_format": audio_format}
        data, _ = await self._bytes("POST", "/audio/speech", orjson.dumps(body), model)
        return data

    async def embed(self, model: str, inputs: list[str]) -> tuple[list[list[float]], TokenUsage]:
        payload = await self._json("POST", "/embeddings", orjson.dumps({"model": model, "input": inputs}), model)
        rows = sorted(_items(payload), key=lambda row: int(row.get("index") or 0))
        vectors = [list(row.get("embedding") or []) for row in rows]
        usage = payload.get("usage") or {}
        return vectors, TokenUsage(prompt_tokens=int(usage.get("prompt_tokens") or 0))

    async def create_video(
        self, model: str, prompt: str, *, seconds: int | None = None, size: str | None = None
    ) -> VideoJob:
        body: dict[str, Any] = {"model": model, "prompt": prompt}
        if seconds is not None:
            body["seconds"] = str(seconds)  # OpenAI spells durations as strings ("4", "8", "12")
        if size:
            body["size"] = size
        return self._job(await self._json("POST", "/videos", orjson.dumps(body), model))

    async def video_status(self, job_id: str) -> VideoJob:
        return self._job(await self._json("GET", f"/videos/{job_id}", None, None))

    async def video_content(self, job_id: str) -> bytes:
        data, _ = await self._bytes("GET", f"/videos/{job_id}/content", None, None)
        return data

    async def download(self, url: str) -> tuple[bytes, str]:
        if url.startswith("data:"):
            return _data_uri(url)
        try:
            if url.startswith(self._base_url + "/"):  # the provider's own file: its key may go along
                async with self._session().get(url) as response:
                    return await self._downloaded(response)
            # anyone else's host must never see the provider's key, so not the pooled session
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session, \
                    session.get(url) as response:
                return await self._downloaded(response)
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self._who}: could not download a result ({type(exc).__name__})") from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(f"{self._who}: downloading a result took too long") from exc

    # -- helpers ------------------------------------------------------------------------------
    async def _json(self, method: str, path: str, body: Body, model: str | None) -> Any:
        data, _ = await self._bytes(method, path, body, model)
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError(f"{self._who}: {path} answered with something that is not JSON") from exc

    async def _bytes(self, method: str, path: str, body: Body, model: str | None) -> tuple[bytes, str]:
        response, _ = await self._send(method, path, body, model=model, accept="*/*")
        try:
            return await response.read(), response.content_type
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self._who}: the answer of {path} broke off ({type(exc).__name__})") from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(f"{self._who}: the answer of {path} took too long") from exc
        finally:
            response.release()

    async def _downloaded(self, response: aiohttp.ClientResponse) -> tuple[bytes, str]:
        if response.status >= 400:
            raise UpstreamError(f"{self._who}: downloading a result failed (HTTP {response.status})",
                                status=response.status)
        data = await response.read()
        mime = response.content_type
        if mime in ("", "application/octet-stream"):
            mime = sniff_mime(data) or mime
        return data, mime

    def _image(self, item: Mapping[str, Any]) -> GeneratedImage:
        encoded, url = item.get("b64_json"), item.get("url")
        data = None
        if encoded:
            try:
                data = base64.b64decode(encoded)
            except (binascii.Error, ValueError) as exc:
                raise UpstreamError(f"{self._who}: an image came back with broken base64") from exc
        elif not url:
            raise UpstreamError(f"{self._who}: an image came back with neither data nor a URL")
        mime = (sniff_mime(data) if data else None) or "image/png"
        return GeneratedImage(data=data, url=url, mime=mime, revised_prompt=item.get("revised_prompt"))

    def _job(self, payload: Any) -> VideoJob:
        if not isinstance(payload, dict) or not payload.get("id"):
            raise UpstreamError(f"{self._who}: the video API answered without a job id")
        error = payload.get("error")
        message = (error.get("message") if isinstance(error, dict) else error) or None
        return VideoJob(
            id=str(payload["id"]),
            status=_VIDEO_STATES.get(str(payload.get("status") or "queued").lower(), "in_progress"),
            progress=int(payload.get("progress") or 0), error=str(message) if message else None,
        )


def sniff_mime(data: bytes | None) -> str | None:
    """The image type from its first bytes: providers often omit it, and base64 has no header."""
    if not data:
        return None
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _items(payload: Any) -> list[dict[str, Any]]:
    items = payload.get("data") if isinstance(payload, dict) else None
    return [item for item in items or () if isinstance(item, dict)]


def _form(fields: dict[str, str], file: tuple[str, bytes, str, str]) -> Callable[[], aiohttp.FormData]:
    def build() -> aiohttp.FormData:
        form = aiohttp.FormData()
        for key, value in fields.items():
            form.add_field(key, value)
        name, data, filename, mime = file
        form.add_field(name, data, filename=filename, content_type=mime)
        return form

    return build


def _data_uri(url: str) -> tuple[bytes, str]:
    head, _, encoded = url.partition(",")
    mime = head[5:].split(";", 1)[0] or "application/octet-stream"
    try:
        return base64.b64decode(encoded), mime
    except (binascii.Error, ValueError) as exc:
        raise UpstreamError("a result came back as a broken data URI") from exc
