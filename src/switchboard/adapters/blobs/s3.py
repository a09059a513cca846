"""File bytes in an S3-compatible object store (AWS S3, MinIO, Ceph, R2 …), one object per file
under an optional key prefix. boto3's client is thread-safe and blocking, so each call runs in a
worker thread, as the directory store's file I/O does; its connection pool is shared by them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from switchboard.adapters.blobs.keys import checked_key
from switchboard.core.domain.errors import NotFound, StorageBusy

log = logging.getLogger(__name__)

_ABSENT = frozenset({"NoSuchKey", "404", "NotFound"})


class S3BlobStore:
    def __init__(
        self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None, region: str | None = None,
        access_key_id: str | None = None, secret_access_key: str | None = None, max_connections: int = 32,
    ) -> None:
        """Credentials left out come from boto3's usual chain (AWS_ACCESS_KEY_ID and
        AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role)."""
        self._bucket = bucket
        self._prefix = prefix
        self._client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=Config(max_pool_connections=max_connections, retries={"mode": "standard"}),
        )

    def _object(self, key: str) -> str:
        return self._prefix + checked_key(key)

    async def put(self, key: str, data: bytes) -> None:
        name = self._object(key)
        await self._call(self._client.put_object, Bucket=self._bucket, Key=name, Body=data)

    async def get(self, key: str) -> bytes:
        name = self._object(key)
        return await self._call(self._read, name)  # type: ignore[no-any-return]

    async def delete(self, key: str) -> None:
        name = self._object(key)  # deleting an absent object succeeds, as in the directory store
        await self._call(self._client.delete_object, Bucket=self._bucket, Key=name)

    def close(self) -> None:
        self._client.close()

    def _read(self, name: str) -> bytes:
        body = self._client.get_object(Bucket=self._bucket, Key=name)["Body"]
        with body:
            return bytes(body.read())

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _ABSENT:
                raise NotFound("file not found") from exc
            log.warning("file store refused %s: %s", getattr(function, "__name__", "a call"), exc)
            raise StorageBusy("the file store is unavailable; try again in a moment") from exc
        except BotoCoreError as exc:  # unreachable endpoint, timeout, no credentials
            log.warning("file store failed: %s", exc)
            raise StorageBusy("the file store is unavailable; try again in a moment") from exc
