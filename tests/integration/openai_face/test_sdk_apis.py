"""The non-chat endpoints through the SDK: legacy completions, embeddings, images, audio; content logging."""

from __future__ import annotations

import base64

import httpx
import pytest

from switchboard.config.settings import GatewaySettings, LimitSettings
from tests.support.gateway import MODEL, Gateway, Start
from tests.support.upstream import PNG_PIXEL, SPEECH_BYTES, Reply, ScriptedUpstream, embedding_of


async def test_legacy_completions_plain_and_streamed(gw: Gateway, upstream: ScriptedUpstream) -> None:
    async with gw.client() as client:
        plain = await client.completions.create(model=MODEL, prompt="Say this", max_tokens=5)
        assert plain.choices[0].text == "Echo: Say this" and plain.object == "text_completion"
        stream = await client.completions.create(model=MODEL, prompt="a b", stream=True)
        assert "".join([c.choices[0].text async for c in stream if c.choices]) == "Echo: a b"
    assert upstream.last.path == "/v1/completions"
    assert [e["source"] for e in await gw.ledger()] == ["completion", "completion"]


async def test_legacy_completions_through_chat_when_missing(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(status=404), Reply(status=404), path="/v1/completions")
    upstream.push(Reply(text="from chat", usage=(3, 2)), Reply(text="streamed from chat"))
    async with gw.client() as client:
        plain = await client.completions.create(model=MODEL, prompt="hello", temperature=0.5)
        assert plain.choices[0].text == "from chat" and plain.usage and plain.usage.total_tokens == 5
        stream = await client.completions.create(model=MODEL, prompt="hello", stream=True)
        chunks = [c async for c in stream]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "streamed from chat"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert upstream.last.json["messages"] == [{"role": "user", "content": "hello"}]


async def test_embeddings_both_encodings(gw: Gateway, upstream: ScriptedUpstream) -> None:
    async with gw.client() as client:
        default = await client.embeddings.create(model="text-embedding-3-small", input=["one two", "three"])
        floats = await client.embeddings.create(model="text-embedding-3-small", input="x", encoding_format="float")
    assert [round(v, 5) for v in default.data[0].embedding] == [round(v, 5) for v in embedding_of("one two")]
    assert floats.data[0].embedding == embedding_of("x") and default.usage.prompt_tokens == 3
    [first, _] = await gw.ledger()
    assert (first["source"], first["tokens_prompt"], first["model"]) == ("embedding", 3, "text-embedding-3-small")


async def test_images_and_audio(gw: Gateway, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="heard you"), path="/v1/audio/transcriptions")
    async with gw.client() as client:
        image = await client.images.generate(model="gpt-image-1", prompt="a fox", n=1, size="1024x1024")
        assert base64.b64decode(image.data[0].b64_json or "") == PNG_PIXEL  # type: ignore[index]
        speech = await client.audio.speech.create(model="tts-1", input="hello", voice="alloy")
        assert speech.content == SPEECH_BYTES
        heard = await client.audio.transcriptions.create(model="whisper-1", file=("a.ogg", b"OggS", "audio/ogg"))
        assert heard.text == "heard you"
        edited = await client.images.edit(model="gpt-image-1", image=("i.png", PNG_PIXEL, "image/png"), prompt="hat")
        assert edited.data and edited.data[0].b64_json
    form = upstream.last.form
    assert form is not None and form["prompt"] == "hat" and form["image"].data == PNG_PIXEL
    assert [e["source"] for e in await gw.ledger()] == ["image", "speech", "audio", "image"]


@pytest.mark.parametrize("stream", [False, True])
async def test_content_logging_stores_the_exchange(start_gateway: Start, upstream: ScriptedUpstream,
                                                   stream: bool) -> None:
    gw = await start_gateway(gateway=GatewaySettings(log_content=True))
    upstream.push(Reply(text="logged answer"))
    async with gw.client() as client:
        response = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "log me"}],
            stream=stream)
        if stream:
            [_ async for _ in response]  # type: ignore[union-attr]
    await gw.runtime.services.gateway.flush()
    async with gw.runtime.uow() as tx:
        [conversation], _ = await tx.conversations.list(gw.user_id, 1, 10, origin="gateway")
        messages = await tx.messages.list(conversation.id)
    assert [(m.role, m.text) for m in messages] == [
        ("system", "be brief"), ("user", "log me"), ("assistant", "logged answer")]


async def test_content_is_not_stored_by_default(gw: Gateway) -> None:
    async with gw.client() as client:
        await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "secret"}])
    assert len(await gw.ledger()) == 1
    async with gw.runtime.uow() as tx:
        _, total = await tx.conversations.list(gw.user_id, 1, 10)
    assert total == 0


async def test_uploads_over_the_limit_and_broken_forms_are_refused(start_gateway: Start,
                                                                   upstream: ScriptedUpstream) -> None:
    gw = await start_gateway(limits=LimitSettings(max_body_bytes=1024, max_upload_bytes=4096))
    auth = {"Authorization": f"Bearer {gw.key}"}
    async with httpx.AsyncClient(base_url=gw.base_url) as http:
        fits = await http.post("/v1/audio/transcriptions", headers=auth, data={"model": "whisper-1"},
                               files={"file": ("a.ogg", b"OggS" * 500, "audio/ogg")})  # over the JSON limit, fine
        too_big = await http.post("/v1/audio/transcriptions", headers=auth, data={"model": "whisper-1"},
                                  files={"file": ("a.ogg", b"OggS" * 2000, "audio/ogg")})
        form = {**auth, "Content-Type": "multipart/form-data; boundary=x"}
        broken = await http.post("/v1/images/edits", headers=form, content=b"--x\r\nnot a part at all")
        no_file = await http.post("/v1/audio/transcriptions", headers=auth, data={"model": "whisper-1"},
                                  files={"other": (None, "just a field")})
    assert fits.status_code == 200, fits.text
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "request_too_large"
    assert broken.status_code == 400 and broken.json()["error"]["type"] == "invalid_request_error", broken.text
    assert no_file.status_code == 400 and no_file.json()["error"]["param"] == "file"
    assert sum(r.path == "/v1/audio/transcriptions" for r in upstream.requests) == 1  # only the one that fit
