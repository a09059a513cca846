"""Secrets shared by every worker and host, kept in the database (table `server_secrets`).

    value = await shared_secret(database_url, "jwt_signing", secrets.token_urlsafe(48))

The first process to ask stores its candidate; every other process, now or later, reads that one
back. Insert-if-absent then read, so two hosts starting at the same instant still agree. Used once
at start-up, off the request path, on a short-lived engine of its own."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from switchboard.adapters.storage.engine import create_engine_for, upsert_into
from switchboard.adapters.storage.tables import server_secrets


async def shared_secret(database_url: str, name: str, candidate: str) -> str:
    """The secret called `name`: the stored one, or `candidate` once stored. The schema must be migrated."""
    engine = create_engine_for(database_url)
    try:
        async with engine.begin() as connection:
            insert = upsert_into(connection, server_secrets).values(
                name=name, value=candidate, created_at=datetime.now(UTC))
            await connection.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
            stored = await connection.scalar(select(server_secrets.c.value).where(server_secrets.c.name == name))
    finally:
        await engine.dispose()
    if not stored:
        raise RuntimeError(f"the shared secret {name!r} could not be stored")
    return str(stored)
