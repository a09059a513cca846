"""Bringing a database's schema up to date with the alembic migrations shipped in this package.

await upgrade_database("sqlite:///data/switchboard.db")   # at app start, and `switchboard migrate`
await schema_revision(engine)                              # (current, newest) for readiness checks

alembic itself (a second or more to import) is loaded only when there is something to migrate:
a current database is recognised by one SELECT against the newest revision named in the files.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard.adapters.storage.engine import create_engine_for

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent / "migrations"

# Any fixed 64-bit number, the same in every process: PostgreSQL advisory lock serialising upgrades.
_MIGRATION_LOCK_KEY = 0x5357_4243_4D49_4752  # "SWBCMIGR"
_REVISION = re.compile(r'^revision: str = "([^"]+)"', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision: str \| None = (?:"([^"]+)"|None)', re.MULTILINE)

log = logging.getLogger("switchboard.migrate")


def alembic_config(database_url: str | None = None) -> Config:
    """An alembic Config without an ini file; env.py reads the URL or a live connection from it."""
    # alembic says a line per plugin and per step at INFO (some as it is imported); we say the one
    # line that matters, unless the operator asked for debug logs
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic.config import Config

    config = Config()
    # ConfigParser treats % as interpolation, so escape it in the path.
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


@cache
def newest_revision() -> str:
    """The head of the (linear) revision chain, read from the files without importing alembic."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIRECTORY / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if (revision := _REVISION.search(source)) and (down := _DOWN_REVISION.search(source)):
            revisions[revision.group(1)] = down.group(1)
    parents = set(revisions.values())
    heads = [revision for revision in revisions if revision not in parents]
    if len(heads) != 1:
        raise RuntimeError(f"migrations must form one chain; heads: {sorted(heads)}")
    return heads[0]


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision the database is at; None for a database alembic never touched."""
    try:
        async with connection.begin_nested():
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return result.scalar_one_or_none()
    except DBAPIError:  # no alembic_version table yet
        return None


async def schema_revision(engine: AsyncEngine) -> tuple[str | None, str]:
    async with engine.connect() as connection:
        return await current_revision(connection), newest_revision()


async def upgrade_database(database_url: str) -> None:
    """Run `alembic upgrade head` when the database is behind. Idempotent, and safe when several
    processes start together: the upgrade runs in one transaction that first takes an exclusive
    lock (a PostgreSQL advisory lock; on SQLite, BEGIN IMMEDIATE), so a second process waits and
    then finds nothing to do."""
    engine = create_engine_for(database_url)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            before = await current_revision(connection)
            if before == newest_revision():
                return
            await connection.run_sync(_upgrade_to_head, database_url)
            log.info("database migrated from %s to %s", before or "empty", newest_revision())
    finally:
        await engine.dispose()


def _upgrade_to_head(connection: Connection, database_url: str) -> None:
    config = alembic_config(database_url)
    from alembic import command

    # env.py uses this connection, and with it our open transaction and lock.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
