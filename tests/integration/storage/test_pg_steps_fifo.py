"""DriverSteps (PostgreSQL): a step queued for a connection from the pool is served first, before
steps that come after it, and is not left waiting while kept connections sit idle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from switchboard.adapters.storage.pg_steps import DriverSteps
from switchboard.adapters.storage.uow import SqlTx
from switchboard.core.ports.storage import Tx

pytestmark = pytest.mark.postgres


@pytest.fixture
async def one_connection(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """A pool of one connection, so a second step at once must queue for it."""
    engine = create_async_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=10)
    yield engine.execution_options(isolation_level="AUTOCOMMIT")
    await engine.dispose()


async def sleeping(tx: Tx, seconds: float, name: str, order: list[str]) -> str:
    await tx.quotas._connection.execute(text(f"SELECT pg_sleep({seconds})"))  # type: ignore[attr-defined]
    order.append(name)
    return name


async def test_a_step_queued_for_the_pool_gets_the_connection_its_predecessor_ends_with(
        one_connection: AsyncEngine) -> None:
    steps = DriverSteps(one_connection, SqlTx, keep=4)
    order: list[str] = []
    first = asyncio.create_task(steps.run(lambda tx: sleeping(tx, 0.2, "first", order)))
    await asyncio.sleep(0.05)
    queued = asyncio.create_task(steps.run(lambda tx: sleeping(tx, 0, "queued", order)))
    await asyncio.sleep(0.05)
    # before: the first step's connection was kept (the kept list not full) and the queued step
    # waited in the pool until its timeout
    assert await asyncio.wait_for(asyncio.gather(first, queued), 5) == ["first", "queued"]
    later = await asyncio.wait_for(steps.run(lambda tx: sleeping(tx, 0, "later", order)), 5)
    assert (later, order) == ("later", ["first", "queued", "later"])
    await steps.close()
