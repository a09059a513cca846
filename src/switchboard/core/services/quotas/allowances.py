"""Token allowances: reserve before a call (one atomic conditional UPDATE), settle after it with
what the provider reports, in the transaction that finishes the message. Never check-then-act."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from switchboard.core.domain.errors import Forbidden, QuotaExceeded
from switchboard.core.domain.quotas import Quota, UsageEntry, UsageGroup, UsageRow, UsageSummary
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import Tx, UnitOfWork


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    completion_reserve: int = 4096
    min_completion: int = 16


@dataclass(frozen=True, slots=True)
class Hold:
    """Tokens held for one call. `completion_budget` is what the answer may use; None = no cap."""

    user_id: int
    tokens: int
    prompt_estimate: int
    completion_budget: int | None


@dataclass(frozen=True, slots=True)
class UsageReport:
    since: datetime
    by: UsageGroup
    rows: list[UsageRow]
    key_names: dict[str, str]  # grouped by key: each key id's name


def refuse_spent_key(principal: Principal) -> None:
    """An API key with a token quota of its own is refused once that is used up, whatever the
    user has left. Read when the credential was resolved: calls in flight may overrun it a little."""
    if principal.key_tokens_left is not None and principal.key_tokens_left <= 0:
        raise QuotaExceeded("this API key has used up its own token quota; ask for a new key or a larger quota")


class QuotaService:
    def __init__(self, uow: UnitOfWork, policy: QuotaPolicy) -> None:
        self._uow = uow
        self.policy = policy

    async def reserve(self, user_id: int, prompt_estimate: int, max_completion: int | None) -> Hold:
        async with self._uow() as tx:
            return await self.reserve_in(tx, user_id, prompt_estimate, max_completion)

    async def reserve_in(self, tx: Tx, user_id: int, prompt_estimate: int, max_completion: int | None) -> Hold:
        """Hold tokens inside the caller's transaction (so a failed insert also drops the hold)."""
        completion = min(max_completion or self.policy.completion_reserve, self.policy.completion_reserve)
        want = prompt_estimate + completion
        minimum = prompt_estimate + min(self.policy.min_completion, completion)
        grant = await tx.quotas.reserve(user_id, want, minimum)
        if grant.tokens == 0:
            raise QuotaExceeded(
                "your token allowance is used up (or too low for this request); ask an administrator for more"
            )
        budget = None if grant.unlimited else grant.tokens - prompt_estimate
        return Hold(user_id, grant.tokens, prompt_estimate, budget)

    async def release(self, hold: Hold) -> None:
        async with self._uow() as tx:
            await tx.quotas.settle(hold.user_id, hold.tokens, 0)

    @staticmethod
    async def settle_in(tx: Tx, hold: Hold, entry: UsageEntry) -> None:
        """Charge what was spent and free the hold, inside the caller's transaction."""
        await tx.quotas.settle(hold.user_id, hold.tokens, entry.tokens_prompt + entry.tokens_completion)
        await tx.quotas.record(entry)

    async def quota(self, user_id: int) -> Quota:
        async with self._uow.read() as tx:
            return await tx.quotas.get(user_id)

    async def summary(self, user_id: int, now: datetime) -> UsageSummary:
        async with self._uow.read() as tx:
            return await tx.quotas.summary(user_id, now)

    async def usage(self, principal: Principal, by: UsageGroup, since: datetime, user_id: int | None) -> UsageReport:
        """The ledger since `since` summed by key, model, day, user or source, for one user (None:
        everyone). Anyone may read their own; others' and everyone's need an administrator."""
        if user_id != principal.user_id and not principal.is_admin:
            raise Forbidden("administrator access required to read other users' usage")
        async with self._uow.read() as tx:
            rows = await tx.quotas.usage(by, since, user_id)
            names = {}
            for row in rows if by == "key" else ():
                key = await tx.keys.get(row.group) if row.group else None
                if key is not None:
                    names[row.group] = key.name
        return UsageReport(since, by, rows, names)
