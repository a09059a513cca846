"""The Redis server the tests use (127.0.0.1:6379, as scripts/services starts it); a test that
needs it is skipped when it is not running."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis.asyncio as redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest_asyncio.fixture
async def redis_url() -> AsyncIterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError as exc:
        pytest.skip(f"Redis unreachable: {exc}")
    finally:
        await client.aclose()
    yield REDIS_URL
