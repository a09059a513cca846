"""Where file bytes live."""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes:
        """Raises NotFound when absent."""
        ...

    async def delete(self, key: str) -> None: ...
