"""UnitOfWork.run / run_read on both databases: a step is one transaction; steps committed together
(SQLite's group commit) fail alone; a step may await nothing but its repositories."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.errors import Conflict, InvalidInput
from switchboard.core.domain.users import Role, User
from switchboard.core.ports.storage import Tx


async def test_steps_at_once_commit_together_and_a_failing_one_rolls_back_alone(uow: SqlUnitOfWork) -> None:
    async def register(tx: Tx, name: str) -> User:
        user = await tx.users.add(name, None, None, Role.USER)
        if name.endswith("7"):
            await tx.users.add(name, None, None, Role.USER)  # taken: Conflict, after a first write
        return user

    outcomes = await asyncio.gather(*(uow.run(lambda tx, n=f"user{i}": register(tx, n)) for i in range(20)),
                                    return_exceptions=True)

    failed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)]
    assert failed == [7, 17] and all(isinstance(outcomes[i], Conflict) for i in failed)

    async def names(tx: Tx) -> list[str]:
        users, _total = await tx.users.list(1, 100)
        return sorted(u.username for u in users)

    assert await uow.run_read(names) == sorted(f"user{i}" for i in range(20) if i not in (7, 17))


async def test_a_step_that_awaits_anything_else_is_refused_and_writes_nothing(uow: SqlUnitOfWork) -> None:
    async def sleeps(tx: Tx) -> None:
        await tx.users.add("sleepy", None, None, Role.USER)
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its repositories"):
        await uow.run(sleeps)
    assert await uow.run_read(lambda tx: tx.users.by_username("sleepy")) is None


async def test_a_nul_character_is_refused_inside_a_step_as_everywhere(uow: SqlUnitOfWork) -> None:
    with pytest.raises(InvalidInput):
        await uow.run(lambda tx: tx.users.add("nul\x00name", None, None, Role.USER))
    assert await uow.run(lambda tx: tx.users.add("fine", None, None, Role.USER)) is not None
