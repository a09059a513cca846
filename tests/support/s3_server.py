"""moto's S3 in server mode on 127.0.0.1 (a random port), one per test process (moto and boto3
are loaded only by the tests that use it); each test makes a bucket of its own, so tests in one
process never see each other's objects."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from switchboard.config.settings import S3Settings

REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
_buckets = itertools.count()


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self) -> Any:
        import boto3  # loaded by the tests that use S3 only

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        name = f"sb-{os.getpid()}-{next(_buckets)}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, prefix: str = "") -> S3Settings:
        return S3Settings(bucket=bucket, endpoint_url=self.endpoint_url, region=REGION,
                          access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, prefix=prefix)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer  # ~1 s to import: only for the tests that use it

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
