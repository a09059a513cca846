"""Bringing a database's schema up to date with the alembic migrations shipped in this package.

await upgrade_database("sqlite:///data/switchboard.db")   # at app start, and `switchboard migrate`
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from switchboard.adapters.storage.engine import create_engine_for

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent / "migrations"

# Any fixed 64-bit number, the same in every process: PostgreSQL advisory lock serialising upgrades.
_MIGRATION_LOCK_KEY = 0x5357_4243_4D49_4752  # "SWBCMIGR"


def alembic_config(database_url: str | None = None) -> Config:
    """An alembic Config without an ini file; env.py reads the URL or a live connection from it."""
    config = Config()
    # ConfigParser treats % as interpolation, so escape it in the path.
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


async def upgrade_database(database_url: str) -> None:
    """Run `alembic upgrade head`. Idempotent, and safe when several processes start together:

    the upgrade runs in one transaction that first takes an exclusive lock (a PostgreSQL advisory
    lock; on SQLite, BEGIN IMMEDIATE), so a second process waits and then finds nothing to do.
    """
    engine = create_engine_for(database_url)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            await connection.run_sync(_upgrade_to_head, database_url)
    finally:
        await engine.dispose()


def _upgrade_to_head(connection: Connection, database_url: str) -> None:
    config = alembic_config(database_url)
    # env.py uses this connection, and with it our open transaction and lock.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
