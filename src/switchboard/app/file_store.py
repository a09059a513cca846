"""The blob store the `files` settings name: a directory (default <data_dir>/files) or S3."""

from __future__ import annotations

from switchboard.adapters.blobs.local import LocalBlobStore
from switchboard.config.settings import Settings
from switchboard.core.ports.blobs import BlobStore


def build_blob_store(settings: Settings) -> BlobStore:
    files = settings.files
    if files.store == "s3" and files.s3 is not None:
        from switchboard.adapters.blobs.s3 import S3BlobStore  # boto3 is loaded only by servers that use it

        s3 = files.s3
        secret = s3.secret_access_key.get_secret_value() if s3.secret_access_key else None
        return S3BlobStore(
            s3.bucket, prefix=s3.prefix, endpoint_url=s3.endpoint_url, region=s3.region,
            access_key_id=s3.access_key_id, secret_access_key=secret, max_connections=s3.max_connections,
        )
    return LocalBlobStore(files.directory or settings.data_dir / "files")
