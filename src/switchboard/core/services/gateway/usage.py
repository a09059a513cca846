"""Settling the gateway's usage off the request path, a batch per transaction.

A finished call hands its settlement over without awaiting anything (so it also works from a
stream's `finally` while the client is gone); a background task writes what gathered in one
transaction every `interval` seconds: quota settlements, ledger entries and, with content logging
on, the exchanged messages. Tokens for per-key TPM limits are passed to the rate limiter after.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from switchboard.core.domain.conversations import Conversation, Message
from switchboard.core.domain.quotas import UsageEntry
from switchboard.core.ports.gateway import RateLimiter
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.telemetry import NO_TELEMETRY, Telemetry
from switchboard.core.services.quotas.allowances import Hold, QuotaService

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Exchange:
    """A request and its answer, stored when content logging is on."""

    conversation: Conversation
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Settlement:
    hold: Hold
    entry: UsageEntry
    rate_key: str | None = None  # the key whose TPM limit these tokens count against
    exchange: Exchange | None = None
    # what to free of the user's reservation; None: the whole hold, a reservation of its own that
    # the user's next call should see freed (written at once). A call served from a quota lease
    # frees just what it spent (the lease keeps the rest) and waits for the batch.
    reserved: int | None = None

    @property
    def frees(self) -> int:
        return self.hold.tokens if self.reserved is None else self.reserved

    @property
    def urgent(self) -> bool:
        return self.reserved is None and self.hold.tokens > 0


class UsageSettler:
    def __init__(
        self, uow: UnitOfWork, limiter: RateLimiter | None, *, interval: float = 0.05,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._uow = uow
        self._telemetry = telemetry
        self._limiter = limiter
        self._interval = interval
        self._pending: list[Settlement] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # held while writing; the quota leases take it too, so the gateway's writers queue in order
        # here instead of polling for SQLite's write lock (busy_timeout), where one starves another
        self.writing = asyncio.Lock()
        self._urgent = False

    def settle(self, settlement: Settlement) -> None:
        """Queue a settlement (and count its tokens); never blocks, never awaits. A settlement that
        frees a reservation of its own (a limited user without a lease) is written at once: their
        next one should see it."""
        self._pending.append(settlement)
        entry = settlement.entry
        self._telemetry.tokens(entry.model, entry.tokens_prompt, entry.tokens_completion)
        self._urgent = self._urgent or settlement.urgent
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def flush(self) -> None:
        """Write everything queued so far (tests, shutdown)."""
        async with self.writing:
            batch, self._pending = self._pending, []
            if batch:
                await self._write(batch)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._urgent:
                await asyncio.sleep(self._interval)  # let a batch gather
            self._urgent = False
            await self.flush()

    async def _write(self, batch: list[Settlement]) -> None:
        try:
            async with self._uow() as tx:
                for user, (frees, spent) in _per_user(batch).items():  # one UPDATE per user
                    await tx.quotas.settle(user, frees, spent)
                for key_id, frees in _freed(batch, "key_id").items():  # metered keys' holds
                    await tx.quotas.settle_key(key_id, frees)
                for hold_id, frees in _freed(batch, "id").items():  # the stored holds (leases, calls)
                    await tx.holds.release(hold_id, frees)
                await tx.quotas.record_many([item.entry for item in batch])
                for item in batch:
                    if item.exchange is not None:
                        await _store(tx, item.exchange)
        except Exception:
            # one bad row must not lose the rest: write them one by one
            log.exception("settling a batch of %d gateway calls failed; retrying one by one", len(batch))
            for item in batch:
                try:
                    async with self._uow() as tx:
                        await _settle_in(tx, item)
                except Exception:
                    log.exception("could not settle usage of user %s", item.entry.user_id)
        if self._limiter is None:
            return
        tokens: dict[str, int] = defaultdict(int)
        for item in batch:
            if item.rate_key is not None:
                tokens[item.rate_key] += item.entry.tokens_prompt + item.entry.tokens_completion
        for key, spent in tokens.items():
            try:
                await self._limiter.add_tokens(key, spent)
            except Exception:
                log.exception("could not record tokens for the rate limit of %s", key)


def _per_user(batch: list[Settlement]) -> dict[int, tuple[int, int]]:
    """(tokens freed from the reservation, tokens spent) per user: settling adds up."""
    sums: dict[int, tuple[int, int]] = {}
    for item in batch:
        frees, spent = sums.get(item.hold.user_id, (0, 0))
        sums[item.hold.user_id] = (frees + item.frees, spent + item.entry.tokens_prompt + item.entry.tokens_completion)
    return sums


def _freed(batch: list[Settlement], field: str) -> dict[str, int]:
    """Tokens freed per metered key ("key_id") or per stored hold ("id")."""
    sums: dict[str, int] = defaultdict(int)
    for item in batch:
        name = getattr(item.hold, field)
        if name and item.frees:
            sums[name] += item.frees
    return sums


async def _settle_in(tx: Tx, item: Settlement) -> None:
    entry = item.entry
    await QuotaService.free_in(tx, item.hold, item.frees, entry.tokens_prompt + entry.tokens_completion)
    await tx.quotas.record(entry)


async def _store(tx: Tx, exchange: Exchange) -> None:
    await tx.conversations.add(exchange.conversation)
    for message in exchange.messages:
        await tx.messages.add(message)
