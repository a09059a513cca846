"""One contract for every blob store: the data directory and S3 (moto's server on 127.0.0.1)
keep bytes exactly, overwrite in place, refuse unsafe keys, and treat absence alike."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError

from switchboard.adapters.blobs.local import LocalBlobStore
from switchboard.adapters.blobs.s3 import S3BlobStore
from switchboard.core.domain.errors import NotFound, StorageBusy
from switchboard.core.ports.blobs import BlobStore
from tests.support.s3_server import S3Server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "files")
    server: S3Server = request.getfixturevalue("s3_server")
    s3 = server.settings(server.new_bucket(), prefix="sb/")
    return S3BlobStore(s3.bucket, prefix=s3.prefix, endpoint_url=s3.endpoint_url, region=s3.region,
                       access_key_id=s3.access_key_id, secret_access_key="testing")


async def test_bytes_come_back_exactly(store: BlobStore) -> None:
    every_byte = bytes(range(256)) * 4
    await store.put("fil_bytes", every_byte)
    assert await store.get("fil_bytes") == every_byte


@pytest.mark.parametrize("size", [0, 1, 5 * 1024 * 1024 + 7])  # empty, tiny, past S3's 5 MiB part size
async def test_any_size_is_kept(store: BlobStore, size: int) -> None:
    data = b"x" * size
    await store.put(f"fil_size{size}", data)
    assert len(await store.get(f"fil_size{size}")) == size


async def test_a_second_put_replaces_the_first(store: BlobStore) -> None:
    await store.put("fil_again", b"first")
    await store.put("fil_again", b"second")
    assert await store.get("fil_again") == b"second"


async def test_a_missing_key_is_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFound):
        await store.get("fil_never")


async def test_a_deleted_blob_is_gone_and_deleting_twice_is_fine(store: BlobStore) -> None:
    await store.put("fil_gone", b"soon gone")
    await store.delete("fil_gone")
    with pytest.raises(NotFound):
        await store.get("fil_gone")
    await store.delete("fil_gone")
    await store.delete("fil_never")


@pytest.mark.parametrize("key", ["../secret", ".hidden", "a/b", "", "x" * 201])
async def test_an_unsafe_key_names_nothing(store: BlobStore, key: str) -> None:
    with pytest.raises(NotFound):
        await store.put(key, b"no")
    with pytest.raises(NotFound):
        await store.get(key)


async def test_keys_are_independent_under_concurrency(store: BlobStore) -> None:
    keys = [f"fil_many{n}" for n in range(20)]
    await asyncio.gather(*(store.put(key, key.encode()) for key in keys))
    assert await asyncio.gather(*(store.get(key) for key in keys)) == [key.encode() for key in keys]


async def test_s3_objects_live_under_the_prefix(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    store = S3BlobStore(bucket, prefix="team/", endpoint_url=s3_server.endpoint_url, region="us-east-1",
                        access_key_id="testing", secret_access_key="testing")
    await store.put("fil_here", b"payload")
    listed = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [(item["Key"], item["Size"]) for item in listed] == [("team/fil_here", 7)]
    store.close()


async def test_a_missing_bucket_is_an_unavailable_store_not_a_crash(s3_server: S3Server) -> None:
    store = S3BlobStore("no-such-bucket", endpoint_url=s3_server.endpoint_url, region="us-east-1",
                        access_key_id="testing", secret_access_key="testing")
    with pytest.raises(StorageBusy, match="file store is unavailable"):
        await store.put("fil_x", b"x")
    with pytest.raises(StorageBusy):
        await store.get("fil_x")


async def test_an_unreachable_s3_endpoint_is_an_unavailable_store(monkeypatch: pytest.MonkeyPatch) -> None:
    store = S3BlobStore("any", endpoint_url="http://127.0.0.1:9", region="us-east-1",
                        access_key_id="testing", secret_access_key="testing")

    def unreachable(**_: object) -> None:  # what botocore raises once its retries are spent
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9/any")

    monkeypatch.setattr(store._client, "get_object", unreachable)  # type: ignore[attr-defined]
    with pytest.raises(StorageBusy, match="file store is unavailable"):
        await store.get("fil_x")
