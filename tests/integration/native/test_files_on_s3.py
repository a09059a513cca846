"""With `files: {store: s3}`, an upload through the native API lands in the bucket (under the
prefix, not in the data directory) and is served back from it with its type and size; a store that
fails is a 503 in the native envelope, never a 500."""

from __future__ import annotations

from switchboard.config.settings import FileStoreSettings
from tests.integration.native.conftest import Start
from tests.support.s3_server import S3Server
from tests.support.upstream_wire import PNG_PIXEL


async def test_an_upload_is_kept_in_s3_and_served_from_it(start_native: Start, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    api = await start_native(files=FileStoreSettings(store="s3", s3=s3_server.settings(bucket, prefix="sb/")))
    await api.user("alice")
    await api.user("bob")
    uploaded = await api.client.post("/api/files", files={"file": ("cat.png", PNG_PIXEL, "image/png")},
                                     headers=api.auth("alice"))
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["data"]["id"]

    [stored] = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert (stored["Key"], stored["Size"]) == (f"sb/{file_id}", len(PNG_PIXEL))
    assert api.runtime is not None
    assert not (api.runtime.settings.data_dir / "files").exists()

    served = await api.client.get(f"/api/files/{file_id}", headers=api.auth("alice"))
    assert served.status_code == 200
    assert served.content == PNG_PIXEL
    assert served.headers["content-type"] == "image/png"
    assert int(served.headers["content-length"]) == len(PNG_PIXEL)

    # someone else's file stays theirs, wherever the bytes are
    refused = await api.client.get(f"/api/files/{file_id}", headers=api.auth("bob"))
    assert refused.status_code == 404 and refused.json()["success"] is False


async def test_a_failing_store_is_a_503_in_the_envelope(start_native: Start, s3_server: S3Server) -> None:
    api = await start_native(files=FileStoreSettings(store="s3", s3=s3_server.settings("bucket-never-made")))
    await api.user("alice")
    uploaded = await api.client.post("/api/files", files={"file": ("notes.txt", b"milk", "text/plain")},
                                     headers=api.auth("alice"))
    assert uploaded.status_code == 503, uploaded.text
    body = uploaded.json()
    assert body["success"] is False and "file store" in body["message"]
