"""Quota leases: a block of a user's allowance reserved once, many calls' holds served from memory.

    leases = QuotaLeases(uow, quotas, block=20_000, idle_seconds=5.0)
    hold = await leases.hold(principal, prompt_estimate, max_completion)  # usually no database
    reserved = leases.finish(hold, spent)    # settle(user, reserved, spent) later, batched
    await leases.release(hold)               # a call that failed: nothing spent

The database still decides: a lease is taken (and topped up) with the same atomic conditional
UPDATE as a per-call reservation (`QuotaRepo.reserve(user, block, minimum)`), so all workers
together never hold more than the allowance. A call's hold is cut from the lease with no await
between the check and the decrement (atomic on the event loop); when the lease cannot cover it,
the call says what it wants and waits for the lease's one top-up in flight (a task every waiting
call awaits: they all wake together, no lock handed from call to call), which asks, when it
starts, for what every waiting call wants beyond the free part (at least a block); a call that
came after that top-up started waits for it and then for the next. Calls arriving meanwhile cut
only what the waiting calls are not owed, so nobody is overtaken. A call that still does not fit
is refused (QuotaExceeded), as without leases. When a cut leaves less than half a block free, a
top-up starts in the background before anyone has to wait for it (not once the database has
granted less than asked: the user is near the end of the allowance).

Accounting. In the database `reserved` covers, for this process, the free part of each lease plus
the holds of calls in flight plus settlements not yet written. A finished call gives its unused
tokens back to the lease in memory and its spend is settled as `settle(user, reserved=spent,
spent=spent)` (with a spend above the hold, the excess is taken from the lease's free part as far
as it goes). A lease untouched for `idle_seconds` gives its free part back to the database
(`settle(user, reserved=free, spent=0)`) from a background task; `return_all` (flush) and `close`
give back every lease. When every call has finished and its settlement is written, `reserved` is
back to 0 and `used` is the ledger's total.

Each lease is stored as one hold of this worker (domain.quotas.StoredHold, id `lease_...`) whose
tokens follow the database's reservation: top-ups add to it, settlements and give-backs take off.

Trade-offs:
- A crash of this process leaves its leases reserved until another worker (or this one restarted)
  sees its heartbeat stop and releases its holds (quotas.recovery). Calls in flight at the crash
  are not charged: the gateway stores no message to estimate them from.
- While this worker holds a lease, other workers see less of the user's allowance: a user with a
  small allowance may be refused on another worker for up to `idle_seconds` after their last call
  here. A lease never exceeds what the user had left (the UPDATE grants min(block, remaining));
  it may hold up to about 1.5 blocks (the refill), more under concurrency (a top-up asks for
  every call waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from switchboard.core.domain.errors import QuotaExceeded
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.quotas import StoredHold
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.services.quotas.allowances import Hold, QuotaService

log = logging.getLogger(__name__)

_REFUSED = "your token allowance is used up (or too low for this request); ask an administrator for more"


@dataclass(slots=True)
class _Lease:
    touched: float
    free: int = 0  # reserved in the database for this process, held by no call
    calls: int = 0  # calls in flight holding tokens cut from this lease
    unlimited: bool = False
    short: bool = False  # the last top-up got less than asked: no refills ahead of need
    waiting: int = 0  # tokens wanted by the calls waiting for a top-up (theirs first, see hold)
    topping: asyncio.Task[None] | None = None  # the top-up in flight, which every waiting call awaits
    hold_id: str = field(default_factory=lambda: new_id("lease"))  # its stored hold


class QuotaLeases:
    def __init__(
        self, uow: UnitOfWork, quotas: QuotaService, *, block: int, idle_seconds: float,
        monotonic: Callable[[], float] = time.monotonic, writing: asyncio.Lock | None = None,
    ) -> None:
        self._uow = uow
        self._quotas = quotas
        self.block = block
        self.idle_seconds = idle_seconds
        self._monotonic = monotonic
        self._writing = writing or asyncio.Lock()  # shared with the usage settler: writers queue here
        self._leases: dict[int, _Lease] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._top_ups: set[asyncio.Task[None]] = set()
        self._closed = False

    def free(self, user_id: int) -> int:
        """Tokens this process holds for the user and no call uses (tests, diagnostics)."""
        lease = self._leases.get(user_id)
        return lease.free if lease is not None else 0

    async def hold(self, principal: Principal, prompt_estimate: int, max_completion: int | None) -> Hold:
        """For a call without a metered key (a key's own quota is held per call: QuotaService)."""
        user_id = principal.user_id
        if self._closed:
            return await self._quotas.reserve(principal, prompt_estimate, max_completion)
        policy = self._quotas.policy
        completion = min(max_completion or policy.completion_reserve, policy.completion_reserve)
        want = prompt_estimate + completion
        minimum = prompt_estimate + min(policy.min_completion, completion)
        while True:
            lease = self._leases.get(user_id)
            if lease is None:
                lease = self._leases[user_id] = _Lease(self._monotonic())
                self._start_reaper()
            if lease.free - lease.waiting >= want:  # the common case: no await from the check to the cut
                return self._cut(user_id, lease, want, prompt_estimate)
            lease.waiting += want
            try:
                topping = lease.topping
                if topping is not None and not topping.done():  # asked before this call came: it may cover it
                    with contextlib.suppress(Exception):  # (a failed refill: this call tops up itself)
                        await asyncio.shield(topping)
                if lease.free < want and not self._closed and self._leases.get(user_id) is lease:
                    await asyncio.shield(self._top_up(user_id, lease, minimum))  # asks for this call too
            finally:
                lease.waiting -= want
            if self._closed:
                return await self._quotas.reserve(principal, prompt_estimate, max_completion)
            if self._leases.get(user_id) is not lease:
                continue  # the lease was given back while this call waited: take a new one
            if lease.free < want and not lease.short:
                continue  # a newcomer took it in the turn the top-up ended: wait for the next one
            if lease.free < minimum:
                self._quotas.telemetry.quota_refused("user")
                raise QuotaExceeded(_REFUSED)
            return self._cut(user_id, lease, min(want, lease.free), prompt_estimate)

    def finish(self, hold: Hold, spent: int) -> int:
        """Give back what the call did not spend; returns how many tokens its settlement frees from
        the database's reservation (to charge as `spent`). Never awaits."""
        lease = None if self._closed else self._leases.get(hold.user_id)
        if lease is None or lease.hold_id != hold.id:  # given back while the call ran: a plain reservation now
            return hold.tokens
        lease.calls = max(lease.calls - 1, 0)
        lease.touched = self._monotonic()
        if spent <= hold.tokens:
            lease.free += hold.tokens - spent
            return spent
        extra = min(spent - hold.tokens, lease.free)  # the lease pays for an overrun while it can
        lease.free -= extra
        return hold.tokens + extra

    async def release(self, hold: Hold) -> None:
        """A call that failed before spending anything."""
        reserved = self.finish(hold, 0)
        if reserved:
            async with self._writing, self._uow() as tx:
                await QuotaService.free_in(tx, hold, reserved, 0)

    async def return_idle(self) -> int:
        """Give the free part of leases untouched for `idle_seconds` back to the database; a lease
        with no call in flight is dropped. Returns the tokens given back."""
        edge = self._monotonic() - self.idle_seconds
        idle = [user for user, lease in self._leases.items() if lease.touched <= edge and lease.topping is None]
        return await self._give_back(idle)

    async def return_all(self) -> int:
        """Give every lease's free part back (flush, shutdown); waits for top-ups in progress."""
        await asyncio.gather(*(lease.topping for lease in list(self._leases.values()) if lease.topping),
                             return_exceptions=True)
        return await self._give_back(list(self._leases))

    async def close(self) -> None:
        """Return every lease; calls after this reserve per call, as without leases."""
        self._closed = True
        await asyncio.gather(*self._top_ups, return_exceptions=True)
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
            self._reaper = None
        await self.return_all()
        self._leases.clear()  # calls still in flight settle their whole hold (see finish)

    # -- inside -------------------------------------------------------------------------------
    def _cut(self, user_id: int, lease: _Lease, tokens: int, prompt_estimate: int) -> Hold:
        lease.free -= tokens
        lease.calls += 1
        lease.touched = self._monotonic()
        if lease.free < self.block // 2 and not (lease.short or lease.topping or self._closed):
            self._top_up(user_id, lease, 1)
        budget = None if lease.unlimited else tokens - prompt_estimate
        return Hold(user_id, tokens, prompt_estimate, budget, id=lease.hold_id, leased=True)

    def _top_up(self, user_id: int, lease: _Lease, minimum: int) -> asyncio.Task[None]:
        """The lease's top-up in flight, or a new one. Started by one call (or a refill), awaited by
        every call waiting: it is shielded from their cancellation, and they all wake together."""
        # A finished top-up whose callbacks have not run yet counts as none: awaiting it returns at
        # once, and a waiting call went round `hold`'s loop without ever yielding (seen: the event
        # loop frozen under 200 streams after a burst).
        task = lease.topping
        if task is None or task.done():
            task = lease.topping = asyncio.get_running_loop().create_task(self._reserve(user_id, lease, minimum))
            task.add_done_callback(lambda done: _forget_top_up(lease, done))  # before the waiters wake
            self._top_ups.add(task)
            task.add_done_callback(self._top_ups.discard)
            task.add_done_callback(_log_failure)  # also when no call awaits it (a refill, cancelled calls)
        return task

    async def _reserve(self, user_id: int, lease: _Lease, minimum: int) -> None:
        # asked when the write starts: every call waiting by then is in it (at least a block)
        asked = max(lease.waiting - lease.free, self.block)
        async with self._writing, self._uow() as tx:
            grant = await tx.quotas.reserve(user_id, asked, max(minimum - lease.free, 1))
            if grant.tokens:
                await tx.holds.add(StoredHold(lease.hold_id, self._quotas.worker_id, user_id, grant.tokens))
        lease.free += grant.tokens
        lease.unlimited = grant.unlimited
        lease.short = grant.tokens < asked

    async def _give_back(self, users: list[int]) -> int:
        returns: list[tuple[int, str, int]] = []
        for user in users:
            lease = self._leases.get(user)
            if lease is None:
                continue
            if lease.free:
                returns.append((user, lease.hold_id, lease.free))
                lease.free = 0
            if lease.calls == 0 and not lease.waiting and lease.topping is None:  # a top-up in flight keeps it
                del self._leases[user]
        if not returns:
            return 0
        try:
            async with self._writing, self._uow() as tx:
                for user, hold_id, tokens in returns:
                    await tx.quotas.settle(user, tokens, 0)
                    await tx.holds.release(hold_id, tokens)
        except Exception:
            log.exception("could not return quota leases; keeping them for the next try")
            for user, hold_id, tokens in returns:
                self._leases.setdefault(user, _Lease(self._monotonic(), hold_id=hold_id)).free += tokens
            return 0
        return sum(tokens for _, _, tokens in returns)

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        while self._leases:
            await asyncio.sleep(max(self.idle_seconds / 2, 0.01))
            try:
                await self.return_idle()
            except Exception:  # the next round tries again
                log.exception("returning idle quota leases failed")


def _forget_top_up(lease: _Lease, done: asyncio.Task[None]) -> None:
    if lease.topping is done:  # (a newer top-up may have started since)
        lease.topping = None


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:  # the next call that needs tokens tries again
        log.error("topping up a quota lease failed", exc_info=error)
