"""QuotaService: hold before the call, settle after it, release on failure; never overspend."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.core.domain.errors import QuotaExceeded
from switchboard.core.domain.quotas import Quota, UsageEntry
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.quotas.allowances import Hold, QuotaPolicy, QuotaService
from tests.support.fake_storage import InMemoryUnitOfWork
from tests.support.fakes import T0

ALICE = Principal(1, "alice", Role.USER, frozenset({Scope.CHAT}), via="jwt")


def service(allowance: int, *, unlimited: bool = False, reserve: int = 100, minimum: int = 10) -> QuotaService:
    uow = InMemoryUnitOfWork()
    uow.store.quotas[1] = Quota(1, allowance, 0, 0, unlimited)
    return QuotaService(uow, QuotaPolicy(completion_reserve=reserve, min_completion=minimum))


def stored(quotas: QuotaService) -> Quota:
    return quotas._uow.store.quotas[1]  # type: ignore[attr-defined]


async def test_a_hold_covers_the_prompt_and_the_completion_reserve() -> None:
    quotas = service(1000)
    hold = await quotas.reserve(ALICE, prompt_estimate=20, max_completion=None)
    assert hold == Hold(1, 120, 20, 100, id=hold.id) and hold.id.startswith("hold_")
    assert stored(quotas).reserved == 120


async def test_max_completion_below_the_reserve_holds_less() -> None:
    hold = await service(1000).reserve(ALICE, 20, max_completion=30)
    assert (hold.tokens, hold.completion_budget) == (50, 30)


async def test_a_short_balance_grants_what_is_left_if_the_minimum_fits() -> None:
    quotas = service(50)
    hold = await quotas.reserve(ALICE, 20, None)
    assert (hold.tokens, hold.completion_budget) == (50, 30)
    # the stored hold (stored before the grant, at what was wanted) says what was granted
    assert [h.tokens for h in quotas._uow.store.holds.values()] == [50]  # type: ignore[attr-defined]


async def test_less_than_the_minimum_left_is_refused_and_nothing_is_held() -> None:
    quotas = service(25)
    with pytest.raises(QuotaExceeded):
        await quotas.reserve(ALICE, 20, None)
    assert stored(quotas).reserved == 0
    assert not quotas._uow.store.holds  # type: ignore[attr-defined]


async def test_unlimited_users_hold_without_a_completion_budget() -> None:
    hold = await service(0, unlimited=True).reserve(ALICE, 20, None)
    assert (hold.tokens, hold.completion_budget) == (120, None)


async def test_settle_charges_what_was_spent_and_frees_the_hold() -> None:
    quotas = service(1000)
    hold = await quotas.reserve(ALICE, 20, None)
    entry = UsageEntry(user_id=1, tokens_prompt=18, tokens_completion=7, model="m", created_at=T0)
    async with quotas._uow() as tx:  # type: ignore[attr-defined]
        await quotas.settle_in(tx, hold, entry)
    quota = await quotas.quota(1)
    assert (quota.used, quota.reserved, quota.remaining) == (25, 0, 975)
    assert (await quotas.summary(1, T0)).total == 25


async def test_release_gives_the_whole_hold_back() -> None:
    quotas = service(1000)
    await quotas.release(await quotas.reserve(ALICE, 20, None))
    assert (stored(quotas).used, stored(quotas).reserved) == (0, 0)


async def test_fifty_concurrent_holds_against_an_allowance_for_five_never_overspend() -> None:
    quotas = service(5 * 120)

    async def one() -> Hold | None:
        try:
            return await quotas.reserve(ALICE, 20, None)
        except QuotaExceeded:
            return None

    holds = await asyncio.gather(*(one() for _ in range(50)))

    granted = [h for h in holds if h is not None]
    assert len(granted) == 5 and all(h.tokens == 120 for h in granted)
    assert stored(quotas).reserved == 600
