"""Small aggregates: file metadata and runtime settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.engine import upsert_into
from switchboard.adapters.storage.tables import files, settings
from switchboard.core.domain.files import StoredFile


def _file_from_row(row: RowMapping) -> StoredFile:
    return StoredFile(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        mime=row["mime"],
        size=int(row["size"]),
        kind=row["kind"],
        created_at=row["created_at"],
    )


class SqlFileRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, file: StoredFile) -> None:
        statement = insert(files).values(
            id=file.id,
            user_id=file.user_id,
            name=file.name,
            mime=file.mime,
            size=file.size,
            kind=file.kind,
            created_at=file.created_at,
        )
        await self._connection.execute(statement)

    async def get(self, file_id: str) -> StoredFile | None:
        row = (await self._connection.execute(select(files).where(files.c.id == file_id))).mappings().first()
        return _file_from_row(row) if row else None


class SqlSettingsRepo:
    """Values are anything JSON can hold; storing None is the same as never having set the key."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, key: str) -> Any | None:
        return await self._connection.scalar(select(settings.c.value).where(settings.c.key == key))

    async def put(self, key: str, value: Any) -> None:
        insert_statement = upsert_into(self._connection, settings).values(
            key=key, value=value, updated_at=datetime.now(UTC)
        )
        statement = insert_statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "value": insert_statement.excluded.value,
                "updated_at": insert_statement.excluded.updated_at,
            },
        )
        await self._connection.execute(statement)
