"""Migrations: idempotent, safe when run concurrently, and in step with tables.py."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from switchboard.adapters.storage import SqlUnitOfWork, upgrade_database
from switchboard.adapters.storage.engine import create_engine_for
from switchboard.adapters.storage.tables import metadata

EXPECTED_TABLES = {
    "users",
    "server_secrets",
    "api_keys",
    "revoked_tokens",
    "conversations",
    "messages",
    "quotas",
    "usage_ledger",
    "files",
    "settings",
    "platform_identities",
    "profiles",
    "shares",
    "workers",
    "holds",
    "alembic_version",
}


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _inspect(database_url: str) -> tuple[set[str], list[object]]:
    engine = create_engine_for(database_url)
    try:
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    return tables, differences


async def test_upgrade_creates_the_schema_matching_tables_py(database_url: str) -> None:
    await upgrade_database(database_url)

    tables, differences = await _inspect(database_url)

    assert tables == EXPECTED_TABLES
    assert differences == []


async def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    await upgrade_database(database_url)
    await upgrade_database(database_url)

    tables, _ = await _inspect(database_url)
    assert tables == EXPECTED_TABLES


async def test_concurrent_upgrades_do_not_collide(database_url: str) -> None:
    await asyncio.gather(*(upgrade_database(database_url) for _ in range(3)))

    tables, _ = await _inspect(database_url)
    assert tables == EXPECTED_TABLES


async def test_ping_answers_true_when_the_database_is_up(uow: SqlUnitOfWork) -> None:
    assert await uow.ping() is True


async def test_ping_answers_false_when_the_database_is_gone() -> None:
    unit_of_work = SqlUnitOfWork("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        assert await unit_of_work.ping() is False
    finally:
        await unit_of_work.close()
