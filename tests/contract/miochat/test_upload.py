"""The Mio-Chat client's uploads, as its source sends them (Pretend-to/mio-chat-frontend
src/lib/client.js, 14e7895 and e6fba4c): `uploadImage` POSTs `{"image": <FileReader data URL>}`
as JSON to `/api/upload/image`, `uploadFile` a FormData with `file` to `/api/upload/file`, both
with no credentials; src/components/InputEditor.vue reads `upload.data.url` and later sends it as
`this.host + url` in the message. The original backend (lib/server/http.js, e18cc547) answered
`{"code": 0, "message": …, "data": {"url": …}}`. Later clients post the multipart field `image`."""

from __future__ import annotations

import base64
import hashlib
import io
import re

import orjson
from PIL import Image

from switchboard.config.settings import LimitSettings
from tests.contract.miochat.conftest import trusting
from tests.integration.miochat.conftest import Mio, Start
from tests.support.upstream import Reply, ScriptedUpstream

ADDRESS = re.compile(r"^/api/uploaded/\d+/file_[0-9a-f]{28}$")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:  # FileReader.readAsDataURL
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


async def test_the_2024_client_uploads_an_image_and_a_file_and_shows_them(start_mio: Start) -> None:
    mio = await trusting(start_mio)
    client = mio.api.client
    image = await client.post("/api/upload/image", headers={"Content-Type": "application/json"},
                              json={"image": data_url(png())})
    assert image.status_code == 200, image.text
    assert image.json()["code"] == 0 and ADDRESS.match(image.json()["data"]["url"])
    shown = await client.get(image.json()["data"]["url"])  # <img src>: no credentials
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png" and shown.content == png()
    document = await client.post("/api/upload/file", files={"file": ("报告.pdf", b"%PDF-1.4 hello", "application/pdf")})
    assert document.status_code == 200 and ADDRESS.match(document.json()["data"]["url"])
    fetched = await client.get(document.json()["data"]["url"])
    assert fetched.content == b"%PDF-1.4 hello" and fetched.headers["content-disposition"].startswith("attachment")


async def test_a_later_client_posts_the_image_as_multipart(start_mio: Start) -> None:
    mio = await start_mio()
    answer = await mio.api.client.post("/api/upload/image", headers=mio.headers("alice"),
                                       files={"image": ("blob", png(), "image/png")})
    assert answer.status_code == 200 and ADDRESS.match(answer.json()["data"]["url"])


async def test_an_uploaded_image_reaches_the_model_as_the_stored_file(
    start_mio: Start, upstream: ScriptedUpstream
) -> None:
    mio = await start_mio()
    client = mio.api.client
    url = (await client.post("/api/upload/image", headers=mio.headers("alice"),
                             json={"image": data_url(png())})).json()["data"]["url"]
    upstream.push(Reply(text="一个红色方块"))
    # src/lib/contactor.js: text and image of one user message as OpenAI content parts, the image
    # at `this.host + url` (InputEditor.vue)
    question = {"role": "user", "content": [{"type": "text", "text": "这是什么"},
                                            {"type": "image_url", "image_url": {"url": mio.base_url + url}}]}
    answer = await client.post("/api/openai/completions", headers=mio.headers("alice"), json={
        "request_id": "r1", "protocol": "openai", "type": "completions", "data": {"messages": [question]}})
    frames = [orjson.loads(line) for line in answer.text.splitlines() if line.strip()]
    assert frames[-1]["message"] == "completed", frames
    sent = upstream.last.json["messages"][-1]["content"]
    assert any(p.get("type") == "image_url" and p["image_url"]["url"].startswith("data:image/png;base64,")
               for p in sent), sent
    # bob names alice's upload: not found, never read
    upstream.push(Reply(text="never"))
    refused = await client.post("/api/openai/completions", headers=mio.headers("bob"), json={
        "request_id": "r2", "data": {"messages": [question]}})
    last = [orjson.loads(line) for line in refused.text.splitlines() if line.strip()][-1]
    assert last["message"] == "failed" and "not found" in last["data"]["reason"]


async def test_wrong_types_are_refused(start_mio: Start) -> None:
    mio = await start_mio()
    client, headers = mio.api.client, mio.headers("alice")
    for body in ({"image": data_url(b"<h1>hi</h1>", "text/html")}, {"image": data_url(b"not a png", "image/png")},
                 {"image": "https://example.com/a.png"}, {"image": "data:image/png;base64,!!!"}, {}):
        refused = await client.post("/api/upload/image", headers=headers, json=body)
        assert refused.status_code == 400 and refused.json()["code"] == 1, (body, refused.text)
    for name, data in (("page.html", b"<script>alert(1)</script>"), ("fake.png", b"text, not an image"),
                       ("noext", b"x")):
        refused = await client.post("/api/upload/file", headers=headers, files={"file": (name, data, "image/png")})
        assert refused.status_code == 400 and refused.json()["code"] == 1, name
    assert (await client.post("/api/upload/file", headers=headers, data={"other": "x"})).status_code == 400


async def test_oversize_uploads_are_refused(start_mio: Start) -> None:
    mio = await start_mio(app={"limits": LimitSettings(max_upload_bytes=64 * 1024)})
    client, headers = mio.api.client, mio.headers("alice")
    big = png() + b"\0" * (64 * 1024)
    as_json = await client.post("/api/upload/image", headers=headers, json={"image": data_url(big)})
    assert as_json.status_code == 413 and as_json.json()["code"] == 1
    as_file = await client.post("/api/upload/file", headers=headers, files={"file": ("a.txt", b"a" * 70_000)})
    assert as_file.status_code == 413 and as_file.json()["code"] == 1


async def test_credentials_and_unknown_addresses(start_mio: Start) -> None:
    mio = await start_mio()
    client = mio.api.client
    anonymous = await client.post("/api/upload/image", json={"image": data_url(png())})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 1
    chat_only = await mio.key("bob", ["chat"])
    refused = await client.post("/api/upload/image", headers={"Authorization": f"Bearer {chat_only}"},
                                json={"image": data_url(png())})
    assert refused.status_code == 403
    url = (await client.post("/api/upload/image", headers=mio.headers("alice"),
                             json={"image": data_url(png())})).json()["data"]["url"]
    owner, file_id = url.rsplit("/", 2)[1:]
    assert (await client.get(f"/api/uploaded/{int(owner) + 1}/{file_id}")).status_code == 404
    assert (await client.get(f"/api/uploaded/{owner}/file_nope")).status_code == 404


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


async def post_chunks(mio: Mio, who: str, data: bytes, name: str, size: int = 1024) -> str:
    """client.js `uploadFile` (e6fba4c): each chunk as FormData (file, md5, chunkIndex, totalChunks,
    filename) to /api/upload/chunk, the MD5 of the whole file computed by its worker first."""
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    parts = chunked(data, size)
    for index, part in enumerate(parts):
        answer = await mio.api.client.post("/api/upload/chunk", headers=mio.headers(who), files={
            "file": ("blob", part, "application/octet-stream")},
            data={"md5": md5, "chunkIndex": str(index), "totalChunks": str(len(parts)), "filename": name})
        assert answer.status_code == 200, answer.text
    return md5


async def test_the_feb_2025_client_uploads_a_file_in_chunks(start_mio: Start) -> None:
    mio = await start_mio()
    document = b"%PDF-1.4 " + bytes(range(256)) * 20
    md5 = await post_chunks(mio, "alice", document, "论文.pdf")
    parts = len(chunked(document, 1024))
    finalized = await mio.api.client.post("/api/upload/finalize", headers=mio.headers("alice"), json={
        "totalChunks": parts, "md5": md5, "filename": "论文.pdf"})
    assert finalized.status_code == 200 and finalized.json()["code"] == 0, finalized.text
    url = finalized.json()["data"]["url"]
    # InputEditor.vue (e6fba4c) keeps `${upload.data.url}?size=${file.size}&name=${file.name}`
    fetched = await mio.api.client.get(f"{url}?size={len(document)}&name=论文.pdf")
    assert fetched.content == document
    again = await mio.api.client.post("/api/upload/finalize", headers=mio.headers("alice"), json={
        "totalChunks": parts, "md5": md5, "filename": "论文.pdf"})
    assert again.status_code == 400  # the parts were put together once and are gone


async def test_chunks_that_are_missing_wrong_or_someone_elses_are_refused(start_mio: Start) -> None:
    mio = await start_mio()
    client = mio.api.client
    document = b"plain text " * 300
    md5 = await post_chunks(mio, "alice", document, "notes.txt")
    parts = len(chunked(document, 1024))
    # bob names alice's upload: its parts are not his
    bobs = await client.post("/api/upload/finalize", headers=mio.headers("bob"), json={
        "totalChunks": parts, "md5": md5, "filename": "notes.txt"})
    assert bobs.status_code == 400 and "not received" in bobs.json()["data"]["reason"]
    missing = await client.post("/api/upload/finalize", headers=mio.headers("alice"), json={
        "totalChunks": parts + 1, "md5": md5, "filename": "notes.txt"})
    assert missing.status_code == 400 and f"part {parts}" in missing.json()["data"]["reason"]
    wrong_md5 = "0" * 32
    await post_chunks(mio, "alice", document, "notes.txt")
    for index, part in enumerate(chunked(document, 1024)):
        await client.post("/api/upload/chunk", headers=mio.headers("alice"), files={"file": ("blob", part)},
                          data={"md5": wrong_md5, "chunkIndex": str(index)})
    mismatch = await client.post("/api/upload/finalize", headers=mio.headers("alice"), json={
        "totalChunks": parts, "md5": wrong_md5, "filename": "notes.txt"})
    assert mismatch.status_code == 400 and "md5" in mismatch.json()["data"]["reason"]
    html = b"<script>alert(1)</script>"
    html_md5 = await post_chunks(mio, "alice", html, "page.html")
    refused = await client.post("/api/upload/finalize", headers=mio.headers("alice"), json={
        "totalChunks": 1, "md5": html_md5, "filename": "page.html"})
    assert refused.status_code == 400 and "not accepted" in refused.json()["data"]["reason"]
    for fields in ({"md5": "../../etc", "chunkIndex": "0"}, {"md5": md5, "chunkIndex": "-1"},
                   {"md5": md5, "chunkIndex": "x"}, {"md5": md5}):
        bad = await client.post("/api/upload/chunk", headers=mio.headers("alice"),
                                files={"file": ("blob", b"x")}, data=fields)
        assert bad.status_code == 400 and bad.json()["code"] == 1, fields
    anonymous = await client.post("/api/upload/chunk", files={"file": ("blob", b"x")}, data={"md5": md5,
                                                                                            "chunkIndex": "0"})
    assert anonymous.status_code == 401


async def test_chunks_adding_up_past_the_limit_are_refused(start_mio: Start) -> None:
    mio = await start_mio(app={"limits": LimitSettings(max_upload_bytes=4096)})
    document = b"a" * 5000
    md5 = await post_chunks(mio, "alice", document, "big.txt", size=2500)
    too_big = await mio.api.client.post("/api/upload/finalize", headers=mio.headers("alice"), json={
        "totalChunks": 2, "md5": md5, "filename": "big.txt"})
    assert too_big.status_code == 413 and too_big.json()["code"] == 1
