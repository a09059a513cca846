"""The usage ledger summed by key, model, UTC day, user and source, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.quotas import UsageEntry, UsageRow
from switchboard.core.domain.users import Role

NOW = datetime(2025, 7, 20, 9, 30, tzinfo=UTC)


def entry(user_id: int, hours_ago: float, prompt: int, completion: int, *, model: str = "gpt-x",
          key_id: str | None = "key_a", source: str = "chat", estimated: bool = False) -> UsageEntry:
    return UsageEntry(user_id=user_id, tokens_prompt=prompt, tokens_completion=completion, model=model,
                      created_at=NOW - timedelta(hours=hours_ago), key_id=key_id, source=source, estimated=estimated)


async def test_usage_groups_sum_the_window_for_one_user_or_everyone(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        alice = (await tx.users.add("alice", None, None, Role.USER)).id
        bob = (await tx.users.add("bob", None, None, Role.USER)).id
        await tx.quotas.record_many([
            entry(alice, 1, 10, 5),
            entry(alice, 2, 20, 10, model="gpt-y", key_id="key_b", estimated=True),
            entry(alice, 10.5, 1, 1, key_id=None, source="embedding"),  # 23:00 the day before, UTC
            entry(alice, 24 * 40, 1000, 1000),  # outside the 30-day window
            entry(bob, 1, 7, 0),
        ])
    since = NOW - timedelta(days=30)
    async with uow.read() as tx:
        by_key = await tx.quotas.usage("key", since, alice)
        by_model = await tx.quotas.usage("model", since, alice)
        by_day = await tx.quotas.usage("day", since.astimezone(timezone(timedelta(hours=8))), alice)
        by_source = await tx.quotas.usage("source", since, alice)
        by_user = await tx.quotas.usage("user", since, None)
        nobody = await tx.quotas.usage("model", since, bob + 100)

    # largest first (days in order); calls made without a key group under ""
    assert by_key == [UsageRow("key_b", 1, 20, 10, 1), UsageRow("key_a", 1, 10, 5, 0), UsageRow("", 1, 1, 1, 0)]
    assert by_model == [UsageRow("gpt-y", 1, 20, 10, 1), UsageRow("gpt-x", 2, 11, 6, 0)]
    assert by_day == [UsageRow("2025-07-19", 1, 1, 1, 0), UsageRow("2025-07-20", 2, 30, 15, 1)]
    assert by_source == [UsageRow("chat", 2, 30, 15, 1), UsageRow("embedding", 1, 1, 1, 0)]
    assert by_user == [UsageRow(str(alice), 3, 31, 16, 1), UsageRow(str(bob), 1, 7, 0, 0)]
    assert nobody == []
