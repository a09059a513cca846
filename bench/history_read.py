"""CPU of one chat turn's history read on SQLite: `messages.list` (20 messages) in a `run_read`
step on the reader thread, the call the turn's read step makes. In process, no HTTP, so it is a
steadier figure than the HTTP bench's "hop CPU" on a shared machine.

    python -m bench.history_read [--reads 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from switchboard.adapters.storage import SqlUnitOfWork, upgrade_database
from switchboard.adapters.storage.engine import create_engine_for
from switchboard.adapters.storage.tables import conversations, messages
from switchboard.core.domain.users import Role

USAGE = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}


async def _seed(url: str, user_id: int) -> None:
    now = datetime.now(UTC)
    engine = create_engine_for(url)
    async with engine.begin() as connection:
        await connection.execute(insert(conversations).values(
            id="bench", user_id=user_id, title="bench", settings={}, origin="native", meta={},
            created_at=now, updated_at=now))
        await connection.execute(insert(messages), [{
            "conversation_id": "bench", "role": "assistant" if i % 2 else "user",
            "parts": [{"type": "text", "text": "hello there " * 10}], "status": "completed", "reasoning": "",
            "tool_calls": [], "usage": USAGE if i % 2 else None, "is_deleted": False,
            "created_at": now, "updated_at": now} for i in range(20)])
    await engine.dispose()


@contextlib.asynccontextmanager
async def seeded_store() -> AsyncIterator[tuple[SqlUnitOfWork, int]]:
    """A fresh SQLite database holding one user and a conversation of 20 messages: (uow, user id)."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        await upgrade_database(url)
        uow = SqlUnitOfWork(url)
        try:
            user = await uow.run(lambda tx: tx.users.add("bench", None, None, Role.USER))
            await _seed(url, user.id)
            yield uow, user.id
        finally:
            await uow.close()


async def measure(reads: int) -> float:
    """Microseconds of this process's CPU per history read."""
    async with seeded_store() as (uow, _):
        for _ in range(200):  # warm: statement cache, threads
            await uow.run_read(lambda tx: tx.messages.list("bench", 100))
        start = time.process_time()
        for _ in range(reads):
            await uow.run_read(lambda tx: tx.messages.list("bench", 100))
        return (time.process_time() - start) / reads * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000)
    args = parser.parse_args(argv)
    print(f"{asyncio.run(measure(args.reads)):.0f} us CPU per history read (20 messages)")


if __name__ == "__main__":
    main()
