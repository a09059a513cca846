"""Real databases for tests (pytest plugin, listed in tests/conftest.py).

    sqlite_url     a SQLite file in the test's tmp_path
    postgres_url   a fresh throw-away PostgreSQL database, dropped after the test
    database_url   each test runs twice: once per database above
    uow            a migrated SqlUnitOfWork on database_url, closed after the test

PostgreSQL is expected at 127.0.0.1:5432, user postgres, trust auth (override the admin DSN with
SWITCHBOARD_TEST_POSTGRES). When it is unreachable the PostgreSQL tests are skipped, except in CI
(env CI set), where they fail so a broken service cannot pass unnoticed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from switchboard.adapters.storage import SqlUnitOfWork, upgrade_database

POSTGRES_ADMIN_DSN = os.environ.get("SWITCHBOARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    # a subdirectory that does not exist yet: the adapter must create it
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'switchboard.db'}"


async def _connect_admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL unreachable at {POSTGRES_ADMIN_DSN}: {exc!r}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    name = f"sb_test_{uuid.uuid4().hex}"
    admin = await _connect_admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    admin_dsn = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"postgresql+asyncpg://{admin_dsn.split('://', 1)[1]}/{name}"
    admin = await _connect_admin()
    try:
        # a pool left open by a failed test must not keep the database alive
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[SqlUnitOfWork]:
    await upgrade_database(database_url)
    unit_of_work = SqlUnitOfWork(database_url)
    yield unit_of_work
    await unit_of_work.close()
