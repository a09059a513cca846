"""File metadata and runtime settings on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.adapters.storage import SqlUnitOfWork, engine, upgrade_database
from switchboard.core.domain.errors import StorageBusy
from switchboard.core.domain.files import StoredFile


async def test_files_round_trip(uow: SqlUnitOfWork) -> None:
    stored = StoredFile(
        id="file_1",
        user_id=1,
        name="cat.png",
        mime="image/png",
        size=5_000_000_000,
        kind="image",
        created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    async with uow() as tx:
        await tx.files.add(stored)

    async with uow() as tx:
        assert await tx.files.get("file_1") == stored
        assert await tx.files.get("file_2") is None


async def test_settings_put_get_and_overwrite(uow: SqlUnitOfWork) -> None:
    value = {"providers": [{"name": "local", "models": ["a", "b"]}], "enabled": True, "ratio": 0.5}
    async with uow() as tx:
        assert await tx.settings.get("providers") is None
        await tx.settings.put("providers", value)
        await tx.settings.put("motd", "hello")

    async with uow() as tx:
        assert await tx.settings.get("providers") == value
        assert await tx.settings.get("motd") == "hello"
        await tx.settings.put("motd", ["changed", 1])

    async with uow() as tx:
        assert await tx.settings.get("motd") == ["changed", 1]


async def test_sqlite_file_gets_its_directory_and_wal_journal(sqlite_url: str) -> None:
    from sqlalchemy import text

    from switchboard.adapters.storage import upgrade_database

    await upgrade_database(sqlite_url)
    unit_of_work = SqlUnitOfWork(sqlite_url.replace("sqlite+aiosqlite:", "sqlite:"))  # plain URL works
    try:
        async with unit_of_work._engine.connect() as connection:
            journal = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
    finally:
        await unit_of_work.close()

    assert await asyncio.to_thread(Path(sqlite_url.split("///", 1)[1]).is_file)
    assert (journal, foreign_keys) == ("wal", 1)


async def test_a_database_locked_past_its_wait_is_storage_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's "database is locked" becomes StorageBusy (a 503 with Retry-After), not a 500."""
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 50)
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    await upgrade_database(url)
    holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    uow = SqlUnitOfWork(url)
    try:
        with pytest.raises(StorageBusy):
            async with uow() as tx:
                await tx.settings.put("motd", "hello")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        await uow.close()
