"""MediaService: real provider over the scripted upstream, in-memory storage; files stored, usage metered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from switchboard.adapters.providers.catalog import CatalogEntry, ProviderCatalog
from switchboard.adapters.providers.openai_compat import OpenAICompatProvider
from switchboard.core.domain.errors import QuotaExceeded, UpstreamError
from switchboard.core.domain.quotas import Quota
from switchboard.core.domain.users import Principal, Role, Scope, User
from switchboard.core.services.media.files import FileService
from switchboard.core.services.media.generation import MediaDefaults, MediaService
from switchboard.core.services.quotas.allowances import QuotaPolicy, QuotaService
from tests.support.fake_storage import InMemoryUnitOfWork
from tests.support.fakes import T0, FixedClock, InMemoryBlobStore, WordCounter
from tests.support.upstream import PNG_PIXEL, SPEECH_BYTES, VIDEO_BYTES, Reply, ScriptedUpstream


@dataclass
class Media:
    service: MediaService
    uow: InMemoryUnitOfWork
    blobs: InMemoryBlobStore
    alice: Principal


@pytest.fixture
async def media(upstream: ScriptedUpstream) -> AsyncIterator[Media]:
    provider = OpenAICompatProvider(name="up", base_url=upstream.base_url, retry_base_delay=0.01)
    uow, clock, blobs = InMemoryUnitOfWork(), FixedClock(), InMemoryBlobStore()
    uow.store.users[1] = User(1, "alice", None, Role.USER, True, T0)
    uow.store.quotas[1] = Quota(1, 1000, 0, 0, unlimited=False)
    files = FileService(uow, blobs, clock, 10_000_000)
    quotas = QuotaService(uow, QuotaPolicy(completion_reserve=100, min_completion=1))
    service = MediaService(ProviderCatalog([CatalogEntry(provider, models=["gpt-test"])]), files, quotas, uow,
                           WordCounter(), clock, MediaDefaults(video_poll_seconds=0.0))
    alice = Principal(1, "alice", Role.USER, frozenset({Scope.CHAT}), via="api_key", key_id="key_1")
    yield Media(service, uow, blobs, alice)
    await provider.close()


async def test_images_are_stored_and_metered(media: Media, upstream: ScriptedUpstream) -> None:
    stored = await media.service.generate_images(media.alice, "a red fox", n=2)
    assert [(f.mime, f.kind, f.user_id) for f in stored] == [("image/png", "image", 1)] * 2
    assert media.blobs.blobs[stored[0].id] == PNG_PIXEL
    assert upstream.last.json["model"] == "gpt-image-1"  # the configured default
    [entry] = media.uow.store.ledger
    assert (entry.source, entry.key_id, entry.model, entry.tokens_prompt) == ("image", "key_1", "gpt-image-1", 3)
    quota = media.uow.store.quotas[1]
    assert (quota.used, quota.reserved) == (3, 0)


async def test_url_images_are_downloaded(media: Media) -> None:
    [stored] = await media.service.generate_images(media.alice, "fox", model="dall-e-2",
                                                   extra={"response_format": "url"})
    assert media.blobs.blobs[stored.id] == PNG_PIXEL and stored.name == "image-1.png"


async def test_speech_transcription_and_embeddings(media: Media) -> None:
    audio, mime, stored = await media.service.speech(media.alice, "say this")
    assert (audio, mime) == (SPEECH_BYTES, "audio/mpeg") and stored is not None and stored.kind == "record"
    assert await media.service.transcribe(media.alice, b"OggS", filename="v.ogg", mime="audio/ogg") == (
        "scripted transcript")
    vectors, usage = await media.service.embed(media.alice, ["a b", "c"])
    assert len(vectors) == 2 and usage.prompt_tokens == 3
    assert [e.source for e in media.uow.store.ledger] == ["speech", "audio", "embedding"]


async def test_a_failed_call_releases_its_hold(media: Media, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(status=400), path="/v1/images/generations")
    with pytest.raises(UpstreamError):
        await media.service.generate_images(media.alice, "fox")
    assert media.uow.store.quotas[1].reserved == 0 and not media.uow.store.ledger


async def test_an_exhausted_allowance_refuses_media(media: Media, upstream: ScriptedUpstream) -> None:
    media.uow.store.quotas[1] = Quota(1, 10, 10, 0, unlimited=False)
    with pytest.raises(QuotaExceeded):
        await media.service.generate_images(media.alice, "fox")
    assert not [r for r in upstream.requests if r.path.startswith("/v1/images")]


async def test_video_is_polled_then_stored(media: Media) -> None:
    job = await media.service.create_video(media.alice, "waves", seconds=4)
    seen: list[int] = []

    async def progress(j: object) -> None:
        seen.append(j.progress)  # type: ignore[attr-defined]

    stored = await media.service.wait_video(media.alice, job.id, on_progress=progress)
    assert seen == [50, 100] and media.blobs.blobs[stored.id] == VIDEO_BYTES and stored.kind == "video"


async def test_a_failed_video_raises(media: Media, upstream: ScriptedUpstream) -> None:
    job = await media.service.create_video(media.alice, "waves")
    upstream.push(Reply(json_body={"status": "failed", "error": {"message": "policy"}}), path="/v1/videos/{id}")
    with pytest.raises(UpstreamError, match="policy"):
        await media.service.wait_video(media.alice, job.id)
