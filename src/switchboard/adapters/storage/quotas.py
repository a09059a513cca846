"""Token allowances and the usage ledger.

Every change to a balance is a single UPDATE whose arithmetic happens in the database, so
concurrent requests (other tasks, other workers) can never spend the same tokens twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.engine import upsert_into
from switchboard.adapters.storage.prepared import Prepared, run
from switchboard.adapters.storage.tables import api_keys, holds, quotas, usage_ledger
from switchboard.adapters.storage.values import TYPED, Codec, codec_for
from switchboard.core.domain.quotas import Grant, Quota, UsageEntry, UsageGroup, UsageRow, UsageSummary


def _quota_from_row(row: RowMapping) -> Quota:
    return Quota(
        user_id=row["user_id"],
        allowance=int(row["allowance"]),
        used=int(row["used"]),
        reserved=int(row["reserved"]),
        unlimited=bool(row["unlimited"]),
    )


def entry_values(entry: UsageEntry, codec: Codec = TYPED) -> dict[str, Any]:
    return {
        "user_id": entry.user_id,
        "key_id": entry.key_id,
        "conversation_id": entry.conversation_id,
        "message_id": entry.message_id,
        "model": entry.model,
        "tokens_prompt": entry.tokens_prompt,
        "tokens_completion": entry.tokens_completion,
        "source": entry.source,
        "estimated": entry.estimated,
        "created_at": codec.time_in(entry.created_at),
    }


def _tokens(value: int) -> Any:
    # Typed literal: asyncpg must know a parameter's type even when it only appears inside CASE.
    return literal(value, BigInteger())


def _at_most(tokens: Any, left: Any) -> Any:
    """`tokens`, but no more than `left` and never below zero."""
    return case((left <= _tokens(0), _tokens(0)), (left < tokens, left), else_=tokens)


def _bound(name: str) -> Any:
    return bindparam(name, type_=BigInteger())  # typed, as _tokens, for asyncpg


# The two UPDATEs of every chat turn, run as prepared statements (prepared.py); the values come
# as parameters b_user_id, b_want, b_minimum / b_reserved, b_spent.
_remaining = quotas.c.allowance - quotas.c.used - quotas.c.reserved
_grant = case((quotas.c.unlimited, _bound("b_want")), (_remaining < _bound("b_want"), _remaining),
              else_=_bound("b_want"))
# Both SET expressions read the row as it was before this UPDATE, so last_grant records exactly
# what was added to reserved. The WHERE is re-checked under the row lock.
# (also the first part of a chat turn's start on PostgreSQL, turn_start.py)
RESERVE_QUOTA = (
    update(quotas)
    .where(quotas.c.user_id == bindparam("b_user_id"), or_(quotas.c.unlimited, _remaining >= _bound("b_minimum")))
    .values(reserved=quotas.c.reserved + _grant, last_grant=_grant)
    .returning(quotas.c.last_grant, quotas.c.unlimited)
)
_RESERVE = Prepared(RESERVE_QUOTA)
# Never let reserved go below zero, even if a caller settles more than it holds.
_released = case((quotas.c.reserved > _bound("b_reserved"), quotas.c.reserved - _bound("b_reserved")),
                 else_=_tokens(0))
# A limited allowance is never overdrawn: a call that spent more than it held is charged what is
# left beside the other calls' reservations (SET reads the row as it was).
_charged = case((quotas.c.unlimited, _bound("b_spent")),
                else_=_at_most(_bound("b_spent"), quotas.c.allowance - quotas.c.used - _released))
# (also one part of the chat turn's end on PostgreSQL, turns.py)
SETTLE_QUOTA = update(quotas).where(quotas.c.user_id == bindparam("b_user_id")).values(
    reserved=_released, used=quotas.c.used + _charged)
_SETTLE = Prepared(SETTLE_QUOTA)
_LEDGER_KEYS = ("user_id", "key_id", "conversation_id", "message_id", "model", "tokens_prompt", "tokens_completion",
                "source", "estimated", "created_at")
_RECORD = Prepared(insert(usage_ledger).inline(), keys=_LEDGER_KEYS)  # inline: no RETURNING id


def reserve_values(user_id: int, want: int, minimum: int) -> dict[str, int]:
    """RESERVE_QUOTA's values (`want` > 0). A grant of 0 means "refused", so at least one token
    must remain; this also keeps an overdrawn balance (spent more than reserved) from producing a
    negative grant."""
    return {"b_user_id": user_id, "b_want": want, "b_minimum": max(1, min(minimum, want))}


class SqlQuotaRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, user_id: int) -> Quota:
        """A user without a quota row has nothing to spend (and is not unlimited)."""
        row = (await self._connection.execute(select(quotas).where(quotas.c.user_id == user_id))).mappings().first()
        if row is None:
            return Quota(user_id=user_id, allowance=0, used=0, reserved=0, unlimited=False)
        return _quota_from_row(row)

    async def ensure(self, user_id: int, allowance: int, unlimited: bool) -> None:
        """Create the quota row if missing; an existing row keeps its values."""
        statement = (
            upsert_into(self._connection, quotas)
            .values(user_id=user_id, allowance=allowance, used=0, reserved=0, unlimited=unlimited, last_grant=0)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        await self._connection.execute(statement)

    async def reserve(self, user_id: int, want: int, minimum: int) -> Grant:
        if want <= 0:
            return Grant(0)
        parameters = reserve_values(user_id, want, minimum)
        rows, _count = await run(self._connection, _RESERVE, parameters)
        return Grant(int(rows[0][0]), bool(rows[0][1])) if rows else Grant(0)

    async def settle(self, user_id: int, reserved: int, spent: int) -> None:
        await run(self._connection, _SETTLE, {"b_user_id": user_id, "b_reserved": reserved, "b_spent": spent})

    async def reserve_key(self, key_id: str, want: int, minimum: int) -> int:
        """The same single conditional UPDATE as `reserve`, on the key's own quota."""
        if want <= 0:
            return 0
        minimum = max(1, min(minimum, want))
        keys = api_keys.c
        remaining = keys.token_quota - keys.tokens_used - keys.tokens_reserved
        grant = case(
            (keys.token_quota.is_(None), _tokens(want)),
            (remaining < _tokens(want), remaining),
            else_=_tokens(want),
        )
        statement = (
            update(api_keys)
            .where(keys.id == key_id, or_(keys.token_quota.is_(None), remaining >= _tokens(minimum)))
            .values(tokens_reserved=keys.tokens_reserved + grant, last_grant=grant)
            .returning(keys.last_grant)
        )
        granted = (await self._connection.execute(statement)).scalar()
        return int(granted or 0)

    async def settle_key(self, key_id: str, reserved: int) -> None:
        keys = api_keys.c
        released = case((keys.tokens_reserved > _tokens(reserved), keys.tokens_reserved - _tokens(reserved)),
                        else_=_tokens(0))
        await self._connection.execute(update(api_keys).where(keys.id == key_id).values(tokens_reserved=released))

    async def add_allowance(self, user_id: int, tokens: int, *, limit: bool = False) -> None:
        """Top up (or with a negative number, take back); creates the row for a user without one.
        With `limit`, the same UPDATE makes an unlimited user limited (held to the new allowance)."""
        insert_statement = upsert_into(self._connection, quotas).values(
            user_id=user_id, allowance=tokens, used=0, reserved=0, unlimited=False, last_grant=0
        )
        changes: dict[str, Any] = {"allowance": quotas.c.allowance + insert_statement.excluded.allowance}
        if limit:
            changes["unlimited"] = False
        statement = insert_statement.on_conflict_do_update(index_elements=["user_id"], set_=changes)
        await self._connection.execute(statement)

    async def set_allowance(self, user_id: int, allowance: int, unlimited: bool) -> None:
        insert_statement = upsert_into(self._connection, quotas).values(
            user_id=user_id, allowance=allowance, used=0, reserved=0, unlimited=unlimited, last_grant=0
        )
        statement = insert_statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "allowance": insert_statement.excluded.allowance,
                "unlimited": insert_statement.excluded.unlimited,
            },
        )
        await self._connection.execute(statement)

    async def release_reserved(self, user_id: int | None) -> int:
        held = select(func.coalesce(func.sum(quotas.c.reserved), 0))
        statement = update(quotas).values(reserved=_tokens(0))
        keyed = update(api_keys).values(tokens_reserved=_tokens(0))
        forget = delete(holds)
        if user_id is not None:
            held, statement = held.where(quotas.c.user_id == user_id), statement.where(quotas.c.user_id == user_id)
            keyed, forget = keyed.where(api_keys.c.user_id == user_id), forget.where(holds.c.user_id == user_id)
        released = int(await self._connection.scalar(held) or 0)
        for change in (statement, keyed, forget):
            await self._connection.execute(change)
        return released

    async def record(self, entry: UsageEntry) -> None:
        await run(self._connection, _RECORD, entry_values(entry, codec_for(self._connection)))
        if entry.key_id is not None:
            await self._count_for_keys([entry])

    async def record_many(self, entries: Sequence[UsageEntry]) -> None:
        if entries:  # one executemany: a statement per entry costs ~0.5 ms of CPU on the event loop
            await self._connection.execute(insert(usage_ledger), [entry_values(entry) for entry in entries])
            await self._count_for_keys(entries)

    async def _count_for_keys(self, entries: Sequence[UsageEntry]) -> None:
        """Each API key's running total, in the ledger's transaction: one UPDATE per key."""
        spent: dict[str, int] = {}
        for entry in entries:
            if entry.key_id is not None:
                spent[entry.key_id] = spent.get(entry.key_id, 0) + entry.tokens_prompt + entry.tokens_completion
        keys = api_keys.c
        for key_id, tokens in spent.items():
            if tokens:  # a key with a quota of its own is never overdrawn either (see settle)
                left = keys.token_quota - keys.tokens_used - keys.tokens_reserved
                charged = case((keys.token_quota.is_(None), _tokens(tokens)), else_=_at_most(_tokens(tokens), left))
                await self._connection.execute(
                    update(api_keys).where(keys.id == key_id).values(tokens_used=keys.tokens_used + charged))

    async def summary(self, user_id: int, now: datetime) -> UsageSummary:
        """Tokens (prompt + completion) in all, since 00:00 UTC today, and over the last 7 and 30 days."""
        now = now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)
        start_of_today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        tokens = usage_ledger.c.tokens_prompt + usage_ledger.c.tokens_completion
        created_at = usage_ledger.c.created_at

        def since(start: datetime) -> Any:
            return func.coalesce(func.sum(case((created_at >= start, tokens), else_=_tokens(0))), 0)

        statement = select(
            func.coalesce(func.sum(tokens), 0),
            since(start_of_today),
            since(now - timedelta(days=7)),
            since(now - timedelta(days=30)),
        ).where(usage_ledger.c.user_id == user_id)
        total, today, week, month = (await self._connection.execute(statement)).one()
        # PostgreSQL sums BIGINT as NUMERIC (Decimal); int() gives one type on both databases.
        return UsageSummary(total=int(total), today=int(today), last_7_days=int(week), last_30_days=int(month))

    async def usage(self, by: UsageGroup, since: datetime, user_id: int | None) -> list[UsageRow]:
        ledger = usage_ledger.c
        group = self._group_column(by)
        tokens = func.sum(ledger.tokens_prompt + ledger.tokens_completion)
        statement = (
            select(group, func.count(), func.coalesce(func.sum(ledger.tokens_prompt), 0),
                   func.coalesce(func.sum(ledger.tokens_completion), 0),
                   func.coalesce(func.sum(case((ledger.estimated, _tokens(1)), else_=_tokens(0))), 0))
            .where(ledger.created_at >= since)
            .group_by(group)
            .order_by(group if by == "day" else tokens.desc())
        )
        if user_id is not None:
            statement = statement.where(ledger.user_id == user_id)
        rows = (await self._connection.execute(statement)).all()
        return [UsageRow(str(g), int(n), int(p), int(c), int(e)) for g, n, p, c, e in rows]

    def _group_column(self, by: UsageGroup) -> Any:
        ledger = usage_ledger.c
        if by == "day":  # the UTC day: SQLite keeps naive UTC text, PostgreSQL a timestamptz
            if self._connection.dialect.name == "sqlite":
                return func.substr(ledger.created_at, 1, 10, type_=String())
            return func.to_char(func.timezone("UTC", ledger.created_at), "YYYY-MM-DD", type_=String())
        return {"key": func.coalesce(ledger.key_id, ""), "model": ledger.model, "user": ledger.user_id,
                "source": ledger.source}[by]
