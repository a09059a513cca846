"""Quotas: the atomic reservation (also under a race), settlement, allowances and the ledger."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.quotas import Quota, UsageEntry, UsageSummary
from switchboard.core.domain.users import ApiKey, Role, Scope


async def _user_with_quota(uow: SqlUnitOfWork, allowance: int, unlimited: bool = False) -> int:
    async with uow() as tx:
        user = await tx.users.add(f"user{allowance}{unlimited}", None, None, Role.USER)
        await tx.quotas.ensure(user.id, allowance, unlimited)
        return user.id


async def _reserve(uow: SqlUnitOfWork, user_id: int, want: int, minimum: int) -> int:
    async with uow() as tx:
        return (await tx.quotas.reserve(user_id, want, minimum)).tokens


async def _quota(uow: SqlUnitOfWork, user_id: int) -> Quota:
    async with uow() as tx:
        return await tx.quotas.get(user_id)


async def test_ensure_creates_once_and_never_overwrites(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 1000)
    async with uow() as tx:
        await tx.quotas.ensure(user_id, 5, True)

    assert await _quota(uow, user_id) == Quota(user_id, allowance=1000, used=0, reserved=0, unlimited=False)


async def test_a_user_without_a_quota_row_has_nothing(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        user = await tx.users.add("quotaless", None, None, Role.USER)
    assert await _quota(uow, user.id) == Quota(user.id, 0, 0, 0, False)
    assert await _reserve(uow, user.id, 10, 1) == 0


async def test_reserve_grants_what_remains_down_to_the_minimum(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 150)

    assert await _reserve(uow, user_id, 100, 10) == 100
    assert await _reserve(uow, user_id, 100, 10) == 50  # only 50 left: a partial grant
    assert await _reserve(uow, user_id, 100, 10) == 0  # nothing left: refused
    assert (await _quota(uow, user_id)).reserved == 150


async def test_reserve_refuses_when_less_than_the_minimum_remains(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 30)

    assert await _reserve(uow, user_id, 100, 50) == 0
    assert await _reserve(uow, user_id, 0, 0) == 0
    assert await _quota(uow, user_id) == Quota(user_id, 30, 0, 0, False)


async def test_unlimited_users_always_get_what_they_want_and_are_still_metered(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 0, unlimited=True)

    assert await _reserve(uow, user_id, 10_000, 10_000) == 10_000
    async with uow() as tx:
        await tx.quotas.settle(user_id, reserved=10_000, spent=1234)
    assert await _quota(uow, user_id) == Quota(user_id, 0, used=1234, reserved=0, unlimited=True)


async def test_fifty_concurrent_reservations_for_five_fit_get_exactly_five(uow: SqlUnitOfWork) -> None:
    want = 100
    user_id = await _user_with_quota(uow, 5 * want)

    grants = await asyncio.gather(*(_reserve(uow, user_id, want, want) for _ in range(50)))

    assert sorted(grants, reverse=True)[:6] == [want] * 5 + [0]
    assert grants.count(want) == 5 and grants.count(0) == 45
    assert (await _quota(uow, user_id)).reserved == 5 * want


async def test_settle_releases_the_reservation_and_charges_what_was_spent(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 1000)
    first = await _reserve(uow, user_id, 400, 1)
    second = await _reserve(uow, user_id, 300, 1)

    async with uow() as tx:
        await tx.quotas.settle(user_id, reserved=first, spent=250)
    assert await _quota(uow, user_id) == Quota(user_id, 1000, used=250, reserved=300, unlimited=False)

    async with uow() as tx:
        await tx.quotas.settle(user_id, reserved=second, spent=500)  # the model overran its reservation
    quota = await _quota(uow, user_id)
    assert quota == Quota(user_id, 1000, used=750, reserved=0, unlimited=False)
    assert quota.remaining == 250

    async with uow() as tx:
        await tx.quotas.settle(user_id, reserved=99, spent=0)  # releasing more than held stops at 0
    assert (await _quota(uow, user_id)).reserved == 0


async def test_an_overdrawn_balance_refuses_instead_of_granting_a_negative_amount(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 100)
    granted = await _reserve(uow, user_id, 100, 1)
    async with uow() as tx:
        await tx.quotas.settle(user_id, reserved=granted, spent=180)

    assert await _reserve(uow, user_id, 50, 0) == 0
    assert (await _quota(uow, user_id)).reserved == 0


async def test_add_and_set_allowance(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 100)
    async with uow() as tx:
        await tx.quotas.add_allowance(user_id, 50)
        await tx.quotas.add_allowance(user_id, -20)
    assert (await _quota(uow, user_id)).allowance == 130

    await _reserve(uow, user_id, 30, 1)
    async with uow() as tx:
        await tx.quotas.set_allowance(user_id, 500, unlimited=True)
    assert await _quota(uow, user_id) == Quota(user_id, 500, used=0, reserved=30, unlimited=True)


async def test_allowance_changes_create_a_missing_row(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        topped_up = (await tx.users.add("topped", None, None, Role.USER)).id
        configured = (await tx.users.add("configured", None, None, Role.USER)).id
        await tx.quotas.add_allowance(topped_up, 70)
        await tx.quotas.set_allowance(configured, 80, unlimited=False)

    assert await _quota(uow, topped_up) == Quota(topped_up, 70, 0, 0, False)
    assert await _quota(uow, configured) == Quota(configured, 80, 0, 0, False)


def _entry(user_id: int, at: datetime, prompt: int, completion: int) -> UsageEntry:
    return UsageEntry(
        user_id=user_id,
        tokens_prompt=prompt,
        tokens_completion=completion,
        model="gpt-x",
        created_at=at,
        key_id="key_1",
        conversation_id="conv_1",
        message_id=7,
        source="chat",
        estimated=True,
    )


async def test_summary_sums_the_ledger_over_each_window(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 0)
    now = datetime(2025, 7, 20, 9, 30, tzinfo=UTC)
    async with uow() as tx:
        await tx.quotas.record(_entry(user_id, now - timedelta(minutes=5), 1, 2))  # today
        await tx.quotas.record(_entry(user_id, now.replace(hour=0, minute=0), 10, 0))  # today, at 00:00
        just_before_midnight = now.replace(hour=0, minute=0) - timedelta(seconds=1)
        await tx.quotas.record(_entry(user_id, just_before_midnight, 100, 0))  # yesterday
        await tx.quotas.record(_entry(user_id, now - timedelta(days=6), 1000, 0))
        await tx.quotas.record(_entry(user_id, now - timedelta(days=8), 10_000, 0))
        await tx.quotas.record(_entry(user_id, now - timedelta(days=29), 0, 100_000))
        await tx.quotas.record(_entry(user_id, now - timedelta(days=31), 1_000_000, 0))
        await tx.quotas.record(_entry(user_id + 1, now, 5, 5))  # someone else's usage

    async with uow() as tx:
        summary = await tx.quotas.summary(user_id, now)
        nobody = await tx.quotas.summary(user_id + 99, now)

    assert summary == UsageSummary(total=1_111_113, today=13, last_7_days=1113, last_30_days=111_113)
    assert nobody == UsageSummary(0, 0, 0, 0)


async def test_record_many_writes_a_batch_of_entries(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 0)
    now = datetime(2025, 7, 20, 9, 30, tzinfo=UTC)
    async with uow() as tx:
        await tx.quotas.record_many([])
        await tx.quotas.record_many([_entry(user_id, now, 1, 2), _entry(user_id, now, 30, 40),
                                     _entry(user_id, now, 0, 500)])
    async with uow() as tx:
        assert (await tx.quotas.summary(user_id, now)).total == 573


async def test_summary_days_start_at_midnight_utc_whatever_the_callers_zone(uow: SqlUnitOfWork) -> None:
    from datetime import timezone

    user_id = await _user_with_quota(uow, 0)
    async with uow() as tx:
        await tx.quotas.record(_entry(user_id, datetime(2025, 7, 19, 23, 0, tzinfo=UTC), 1, 0))
        await tx.quotas.record(_entry(user_id, datetime(2025, 7, 20, 1, 0, tzinfo=UTC), 2, 0))
        # 02:00 on the 20th UTC is 10:00 at +08:00: "today" is still the UTC day
        summary = await tx.quotas.summary(user_id, datetime(2025, 7, 20, 10, 0, tzinfo=timezone(timedelta(hours=8))))

    assert summary.today == 2


async def test_every_ledger_entry_counts_towards_its_key_in_the_same_transaction(uow: SqlUnitOfWork) -> None:
    user_id = await _user_with_quota(uow, 0)
    now = datetime(2025, 7, 20, 9, 30, tzinfo=UTC)
    stale = ApiKey("key_1", user_id, "metered", "sk-m", "hash-m", frozenset({Scope.CHAT}), now, token_quota=1000)
    async with uow() as tx:
        await tx.keys.add(stale)
        await tx.keys.add(ApiKey("key_2", user_id, "other", "sk-o", "hash-o", frozenset({Scope.CHAT}), now))
        await tx.quotas.record(_entry(user_id, now, 100, 20))
        await tx.quotas.record_many([_entry(user_id, now, 300, 80), replace(_entry(user_id, now, 5, 5), key_id="key_2"),
                                     replace(_entry(user_id, now, 9, 9), key_id=None)])
    with pytest.raises(RuntimeError):
        async with uow() as tx:
            await tx.quotas.record(_entry(user_id, now, 1000, 0))
            raise RuntimeError("rolled back: neither the entry nor the key's total")
    async with uow() as tx:
        stale.revoked_at = now  # an update from a copy read before the calls must not reset the total
        await tx.keys.update(stale)
    async with uow() as tx:
        metered, other = await tx.keys.get("key_1"), await tx.keys.get("key_2")
        total = (await tx.quotas.summary(user_id, now)).total
    assert metered is not None and other is not None
    assert (metered.tokens_used, metered.tokens_left, metered.revoked_at) == (500, 500, now)
    assert (other.tokens_used, other.tokens_left) == (10, None)
    assert total == 528


async def test_release_reserved_frees_one_users_holds_or_everyones(uow: SqlUnitOfWork) -> None:
    first, second = await _user_with_quota(uow, 1000), await _user_with_quota(uow, 2000)
    assert await _reserve(uow, first, 300, 1) == 300 and await _reserve(uow, second, 500, 1) == 500
    async with uow() as tx:
        assert await tx.quotas.release_reserved(first) == 300
    async with uow() as tx:
        assert ((await tx.quotas.get(first)).reserved, (await tx.quotas.get(second)).reserved) == (0, 500)
        assert await tx.quotas.release_reserved(None) == 500
    async with uow() as tx:
        assert (await tx.quotas.get(second)).reserved == 0 and await tx.quotas.release_reserved(None) == 0
