"""The media half of OpenAICompatProvider, and ProviderCatalog.resolve_media, against the scripted upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.adapters.providers.catalog import CatalogEntry, ProviderCatalog
from switchboard.adapters.providers.openai_compat import OpenAICompatProvider
from switchboard.core.domain.errors import UnknownModel, UpstreamError
from tests.support.upstream import PNG_PIXEL, SPEECH_BYTES, VIDEO_BYTES, FormFile, Reply, ScriptedUpstream

KEY = "sk-media-secret"


@pytest.fixture
async def provider(upstream: ScriptedUpstream) -> AsyncIterator[OpenAICompatProvider]:
    provider = OpenAICompatProvider(name="up", base_url=upstream.base_url, api_key=KEY, retry_base_delay=0.01)
    yield provider
    await provider.close()


async def test_generates_images_as_base64(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    images = await provider.generate_images("gpt-image-1", "a fox", n=2, size="256x256", extra={"quality": "low"})
    assert [(i.data, i.mime, i.revised_prompt) for i in images] == [(PNG_PIXEL, "image/png", "a fox")] * 2
    assert upstream.last.json == {"model": "gpt-image-1", "prompt": "a fox", "n": 2, "size": "256x256",
                                  "quality": "low"}
    assert upstream.last.headers["Authorization"] == f"Bearer {KEY}"


async def test_image_urls_are_downloaded(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    [image] = await provider.generate_images("dall-e-2", "a fox", extra={"response_format": "url"})
    assert image.data is None and image.url
    assert await provider.download(image.url) == (PNG_PIXEL, "image/png")
    assert await provider.download("data:image/gif;base64,R0lGODlh") == (b"GIF89a", "image/gif")


async def test_foreign_downloads_never_carry_the_key(provider: OpenAICompatProvider) -> None:
    async with ScriptedUpstream() as other:
        data, _ = await provider.download(f"http://127.0.0.1:{other.port}/v1/generated/1.png")
        assert data == PNG_PIXEL
        assert "Authorization" not in other.last.headers


async def test_edits_an_image_with_multipart(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    [image] = await provider.edit_image("gpt-image-1", b"\x89PNGsource", "add a hat", mime="image/png")
    assert image.data == PNG_PIXEL
    form = upstream.last.form
    assert form is not None and form["prompt"] == "add a hat" and form["model"] == "gpt-image-1"
    assert form["image"] == FormFile("image.png", "image/png", b"\x89PNGsource")


async def test_transcribes_and_speaks(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(text="hello from audio"), path="/v1/audio/transcriptions")
    text = await provider.transcribe("whisper-1", b"OggS...", filename="a.ogg", mime="audio/ogg", language="en")
    assert text == "hello from audio"
    form = upstream.last.form
    assert form is not None and form["language"] == "en" and form["file"].data == b"OggS..."
    assert await provider.speech("tts-1", "hi", voice="nova") == SPEECH_BYTES
    assert upstream.last.json == {"model": "tts-1", "input": "hi", "voice": "nova", "response_format": "mp3"}


async def test_embeds_in_order_with_usage(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    vectors, usage = await provider.embed("text-embedding-3-small", ["one two", "three"])
    assert len(vectors) == 2 and vectors[0] != vectors[1] and len(vectors[0]) == 8
    assert usage.prompt_tokens == 3


async def test_video_job_lifecycle(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    job = await provider.create_video("sora-2", "waves", seconds=4, size="720x1280")
    assert job.status == "queued" and upstream.last.json["seconds"] == "4"
    first = await provider.video_status(job.id)
    assert (first.status, first.progress) == ("in_progress", 50)
    assert (await provider.video_status(job.id)).status == "completed"
    assert await provider.video_content(job.id) == VIDEO_BYTES


async def test_failed_video_job_reports_its_error(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    job = await provider.create_video("sora-2", "waves")
    upstream.push(Reply(json_body={"status": "failed", "error": {"message": "moderation"}}), path="/v1/videos/{id}")
    failed = await provider.video_status(job.id)
    assert (failed.status, failed.error) == ("failed", "moderation")


async def test_errors_map_like_chat_and_retry(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.push(Reply(status=503), Reply(status=400), path="/v1/images/generations")
    with pytest.raises(UpstreamError) as refused:
        await provider.generate_images("gpt-image-1", "x")  # the 503 is retried, the 400 is not
    assert refused.value.status == 400 and "scripted error 400" in refused.value.message
    upstream.push(Reply(status=401), path="/v1/embeddings")
    with pytest.raises(UpstreamError) as rejected:
        await provider.embed("e", ["x"])
    assert rejected.value.status == 401 and KEY not in rejected.value.message


async def test_resolve_media(upstream: ScriptedUpstream, provider: OpenAICompatProvider) -> None:
    upstream.models = ["gpt-test", "whisper-1"]
    other = OpenAICompatProvider(name="other", base_url=upstream.base_url)
    alone = ProviderCatalog([CatalogEntry(provider, models=["gpt-test"])])
    assert await alone.resolve_media("sora-2") == (provider, "sora-2")  # the only media provider
    both = ProviderCatalog([CatalogEntry(provider, models=["gpt-test"]), CatalogEntry(other)],
                           aliases={"stt": "whisper-1"})
    assert await both.resolve_media("stt") == (other, "whisper-1")  # listed by `other`
    with pytest.raises(UnknownModel):
        await both.resolve_media("sora-2")
    with pytest.raises(UnknownModel):
        await ProviderCatalog([]).resolve_media("gpt-image-1")  # echo makes no images
    await other.close()
