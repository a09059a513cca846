"""Token allowances: reserve before a call (one atomic conditional UPDATE on the user's quota, and
one on a metered API key's own), settle after it with what the provider reports, in the
transaction that finishes the message. Never check-then-act. Each hold is also stored with the
worker that made it (domain.quotas.StoredHold), so a crashed worker's can be given back
(quotas.recovery)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from switchboard.core.domain.conversations import Conversation, Message
from switchboard.core.domain.errors import Forbidden, QuotaExceeded
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.quotas import (
    Quota,
    Settlement,
    StoredHold,
    UsageEntry,
    UsageGroup,
    UsageRow,
    UsageSummary,
)
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.telemetry import NO_TELEMETRY, Telemetry

# Stream events past a hold's answer budget that an answer may send before it is stopped: one
# the provider capped as asked ends within the budget plus its role, finish and usage events and
# [DONE]. One that runs on ignored the cap, and is cut.
STREAM_SLACK_EVENTS = 8

_USER_SPENT = "your token allowance is used up (or too low for this request); ask an administrator for more"
_KEY_SPENT = "this API key has used up its own token quota; ask for a new key or a larger quota"


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    completion_reserve: int = 4096
    min_completion: int = 16


@dataclass(frozen=True, slots=True)
class Hold:
    """Tokens held for one call. `completion_budget` is what the answer may use; None = no cap.
    `key_id`: the metered API key that holds the same tokens; `id`: the stored hold ("": none, an
    unlimited user's metered gateway call); `leased`: cut from a gateway quota lease."""

    user_id: int
    tokens: int
    prompt_estimate: int
    completion_budget: int | None
    key_id: str | None = None
    id: str = ""
    leased: bool = False


@dataclass(frozen=True, slots=True)
class UsageReport:
    since: datetime
    by: UsageGroup
    rows: list[UsageRow]
    key_names: dict[str, str]  # grouped by key: each key id's name


def metered_key(principal: Principal) -> str | None:
    """The API key whose own token quota a call is held against too (None: no key, or no quota)."""
    return principal.key_id if principal.key_tokens_left is not None else None


class QuotaService:
    def __init__(
        self, uow: UnitOfWork, policy: QuotaPolicy, worker_id: str = "", telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._uow = uow
        self.policy = policy
        self.telemetry = telemetry  # counts refusals, here and in the gateway's leases
        self.worker_id = worker_id or new_id("wrk")  # whose holds these are (quotas.recovery)

    async def reserve(self, principal: Principal, prompt_estimate: int, max_completion: int | None) -> Hold:
        async with self._uow() as tx:
            return await self.reserve_in(tx, principal, prompt_estimate, max_completion)

    async def reserve_in(
        self, tx: Tx, principal: Principal, prompt_estimate: int, max_completion: int | None,
        message_id: int | None = None,
    ) -> Hold:
        """Hold tokens against the user and a metered key, inside the caller's transaction (a
        refusal, or a failed insert after it, drops the whole hold); `message_id` names the
        answer the hold pays for (crash recovery)."""
        want, minimum = self._wanted(prompt_estimate, max_completion)
        # The stored hold first, at the most it may hold (cut below to what was granted): the
        # reservation's UPDATE locks the user's quota row until the commit, so it goes last, and
        # no round trip of ours follows it on PostgreSQL while every other call of the user waits.
        hold_id, key_id = new_id("hold"), metered_key(principal)
        await tx.holds.add(StoredHold(hold_id, self.worker_id, principal.user_id, want, key_id, message_id))
        grant = await tx.quotas.reserve(principal.user_id, want, minimum)
        if grant.tokens == 0:
            self.telemetry.quota_refused("user")
            raise QuotaExceeded(_USER_SPENT)
        tokens = grant.tokens
        if key_id is not None:  # the key grants at most what the user did: one amount held on both
            held = await tx.quotas.reserve_key(key_id, tokens, minimum)
            if held == 0:
                self.telemetry.quota_refused("key")
                raise QuotaExceeded(_KEY_SPENT)  # the caller's transaction rolls the user's part back
            if held < tokens:
                await tx.quotas.settle(principal.user_id, tokens - held, 0)
                tokens = held
        budget = None if grant.unlimited and key_id is None else tokens - prompt_estimate
        if tokens < want:  # granted less than wanted: the stored hold says what is held
            await tx.holds.release(hold_id, want - tokens)
        return Hold(principal.user_id, tokens, prompt_estimate, budget, key_id, hold_id)

    async def start_turn_in(
        self, tx: Tx, principal: Principal, question: Message, answer: Message, conversation: Conversation,
        prompt_estimate: int, max_completion: int | None,
    ) -> tuple[Message, Message, Hold]:
        """A chat turn's rows (its question, its streaming answer, the conversation's title and
        time) and its hold, as `reserve_in`, in the caller's transaction (TurnRepo.start: on
        PostgreSQL one statement, sent alone). A refusal raises QuotaExceeded. Not for a metered
        key's turn (reserve_in: the key is held after the user)."""
        want, minimum = self._wanted(prompt_estimate, max_completion)
        stored = StoredHold(new_id("hold"), self.worker_id, principal.user_id, want)
        question, answer, grant = await tx.turns.start(question, answer, conversation, stored, minimum)
        if grant.tokens == 0:
            self.telemetry.quota_refused("user")
            raise QuotaExceeded(_USER_SPENT)
        budget = None if grant.unlimited else grant.tokens - prompt_estimate
        return question, answer, Hold(principal.user_id, grant.tokens, prompt_estimate, budget, None, stored.id)

    def _wanted(self, prompt_estimate: int, max_completion: int | None) -> tuple[int, int]:
        """What a call wants held, and the least it can go on with."""
        completion = min(max_completion or self.policy.completion_reserve, self.policy.completion_reserve)
        return prompt_estimate + completion, prompt_estimate + min(self.policy.min_completion, completion)

    async def release(self, hold: Hold) -> None:
        async with self._uow() as tx:
            await self.free_in(tx, hold, hold.tokens, 0)

    @staticmethod
    async def free_in(tx: Tx, hold: Hold, tokens: int, spent: int) -> None:
        """Give `tokens` of a hold back (user, key and stored hold alike) and charge `spent`."""
        await tx.quotas.settle(hold.user_id, tokens, spent)
        if hold.key_id is not None:
            await tx.quotas.settle_key(hold.key_id, tokens)
        if hold.id and tokens:
            await tx.holds.release(hold.id, tokens)

    async def settle_in(self, tx: Tx, hold: Hold, entry: UsageEntry) -> None:
        """Charge what was spent and free the hold, inside the caller's transaction. A call that
        used more than it held (the provider counted the prompt higher than the estimate) is
        charged as far as the allowance and the key's quota go, never beyond (QuotaRepo.settle)."""
        await self.free_in(tx, hold, hold.tokens, entry.tokens_prompt + entry.tokens_completion)
        await tx.quotas.record(entry)
        self.telemetry.tokens(entry.model, entry.tokens_prompt, entry.tokens_completion)

    async def finish_turn_in(self, tx: Tx, answer: Message, hold: Hold, entry: UsageEntry) -> int | None:
        """A chat turn's end: its answer's final state written and `settle_in`'s settlement, in
        the caller's transaction (TurnRepo.finish: on PostgreSQL one statement, so the quota row
        stays locked for no round trip of ours). Returns the conversation's revision after it."""
        revision = await tx.turns.finish(answer, Settlement(hold.id, hold.key_id, hold.tokens, entry))
        self.telemetry.tokens(entry.model, entry.tokens_prompt, entry.tokens_completion)
        return revision

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
