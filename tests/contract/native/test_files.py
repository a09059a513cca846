"""POST /api/files and GET /api/files/{id}: uploads the web app attaches to messages, read back
by their owner only; every failure in the native envelope."""

from __future__ import annotations

from pathlib import Path

from switchboard.config.settings import LimitSettings
from tests.contract.native.conftest import MAX_BODY, Native, open_native
from tests.contract.native.test_bad_requests import assert_envelope
from tests.support.upstream_wire import PNG_PIXEL


async def upload(native: Native, who: str, name: str, mime: str, data: bytes) -> dict[str, object]:
    response = await native.client.post("/api/files", files={"file": (name, data, mime)}, headers=native.auth(who))
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


async def test_an_image_is_stored_and_shown_to_its_owner_only(native: Native) -> None:
    stored = await upload(native, "alice", "cat.png", "image/png", PNG_PIXEL)
    assert stored == {"id": stored["id"], "name": "cat.png", "mime": "image/png", "size": len(PNG_PIXEL),
                      "kind": "image"}

    read = await native.client.get(f"/api/files/{stored['id']}", headers=native.auth("alice"))
    assert read.status_code == 200 and read.content == PNG_PIXEL
    assert read.headers["content-type"] == "image/png" and read.headers["x-content-type-options"] == "nosniff"
    assert read.headers["content-disposition"].startswith("inline")

    assert_envelope(await native.client.get(f"/api/files/{stored['id']}", headers=native.auth("bob")), 404,
                    "not_found")
    assert_envelope(await native.client.get("/api/files/file_nope", headers=native.auth("alice")), 404, "not_found")
    assert_envelope(await native.client.get(f"/api/files/{stored['id']}"), 401, "unauthenticated")


async def test_other_files_are_downloads_never_pages(native: Native) -> None:
    for name, mime, kind in [("page.html", "text/html", "file"), ("logo.svg", "image/svg+xml", "image"),
                             ("voice.ogg", "audio/ogg", "audio")]:
        stored = await upload(native, "alice", name, mime, b"<script>alert(1)</script>")
        assert stored["kind"] == kind
        read = await native.client.get(f"/api/files/{stored['id']}", headers=native.auth("alice"))
        assert read.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert read.headers["x-content-type-options"] == "nosniff"


async def test_bad_uploads_are_refused(native: Native) -> None:
    no_file = await native.client.post("/api/files", data={"other": "x"}, headers=native.auth("alice"))
    assert "file" in assert_envelope(no_file, 400, "invalid_input")["message"]
    as_json = await native.client.post("/api/files", json={"file": "x"}, headers=native.auth("alice"))
    assert_envelope(as_json, 400, "invalid_input")
    empty = await native.client.post("/api/files", files={"file": ("e.txt", b"", "text/plain")},
                                     headers=native.auth("alice"))
    assert_envelope(empty, 400, "invalid_input")
    assert_envelope(await native.client.post("/api/files", files={"file": ("a.txt", b"a", "text/plain")}), 401,
                    "unauthenticated")
    bad_token = {"Authorization": "Bearer nope"}
    assert_envelope(await native.client.post("/api/files", files={"file": ("a.txt", b"a", "text/plain")},
                                             headers=bad_token), 401, "unauthenticated")


async def test_an_oversize_upload_is_a_413(tmp_path: Path) -> None:
    limits = LimitSettings(max_body_bytes=MAX_BODY, max_upload_bytes=1000)
    async with open_native(tmp_path, users=("alice",), limits=limits) as native:
        # over the upload limit, under the request limit that the multipart wrapping adds to
        response = await native.client.post("/api/files", files={"file": ("big.bin", b"x" * 1001, "text/plain")},
                                            headers=native.auth("alice"))
        assert "1000" in assert_envelope(response, 413, "too_large")["message"]
        huge = await native.client.post("/api/files", files={"file": ("big.bin", b"x" * 5000, "text/plain")},
                                        headers=native.auth("alice"))
        assert_envelope(huge, 413, "too_large")
