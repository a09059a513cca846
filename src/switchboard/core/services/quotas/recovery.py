"""Nothing stuck after a crash: worker heartbeats, and the recovery of what a dead worker left.

    recovery = CrashRecovery(uow, counter, clock, WorkerIdentity(worker_id, host, pid), WorkerPolicy())
    await recovery.start()   # registers this worker, recovers dead ones, then beats in the background
    await recovery.close()   # stops beating, gives back anything of its own still held, leaves the table

The mechanism (simple on purpose; multi-host scale-out builds on it):
- Every worker process has an id (`wrk_...`) and a row in `workers` whose `last_seen` it writes
  every `heartbeat_seconds`. A worker not seen for `dead_after_seconds` is dead.
- Whatever a worker reserves in the database is also stored as a hold naming it (quotas.allowances:
  a chat turn's hold, a metered gateway call's, a gateway quota lease), in the transaction that
  reserves it; every message it streams names it too (`Message.worker_id`).
- At start-up and after each heartbeat, a worker looks for dead ones. It claims them (deleting
  their rows, so two workers never recover the same one) and, in that one transaction, finishes
  their `streaming` messages as `interrupted` with the text stored by the last flush, charges each
  its estimate (the prompt estimate stored on it when its round started, plus the text, at most
  its hold) to the user, the key and the ledger, and gives their holds back to the users' and
  keys' reservations. A live worker's holds and messages are never touched.
- `streaming` messages that name no worker (written before workers were recorded) are finished
  the same way.

Limits: `last_seen` is each worker's own clock, so hosts sharing a database need clocks in step
well within `dead_after_seconds` (NTP). A worker paused longer than that (a stopped VM) is taken
for dead; when it resumes, its turns settle again (charged twice: the estimate, then the real
usage). Gateway calls in flight at a crash are released but not charged: no message stores them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from switchboard.core.domain.conversations import Message, MessageStatus, TokenUsage
from switchboard.core.domain.quotas import StoredHold, UsageEntry
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import Clock, TokenCounter

log = logging.getLogger(__name__)

STOPPED = "the server stopped while answering; this is the text produced until then"


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    id: str  # the QuotaService's worker_id: what its holds and messages name
    host: str = ""  # for people reading the table
    pid: int = 0


@dataclass(frozen=True, slots=True)
class WorkerPolicy:
    heartbeat_seconds: float = 10.0
    dead_after_seconds: float = 60.0


@dataclass(slots=True)
class Recovered:
    """What one recovery did."""

    workers: list[str] = field(default_factory=list)
    messages: int = 0
    tokens_released: int = 0
    tokens_charged: int = 0


class CrashRecovery:
    def __init__(self, uow: UnitOfWork, counter: TokenCounter, clock: Clock, worker: WorkerIdentity,
                 policy: WorkerPolicy) -> None:
        self._uow = uow
        self._counter = counter
        self._clock = clock
        self.worker = worker
        self.policy = policy
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Recovered:
        await self.beat()
        recovered = await self.sweep()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return recovered

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # normally nothing is left: every turn and lease has finished before this runs
        try:
            async with self._uow() as tx:
                await tx.workers.claim([self.worker.id], self._clock.now() + timedelta(days=1))
                await self._recover_in(tx, [self.worker.id])
        except Exception:  # the database is gone: another worker recovers this one once it is back
            log.exception("could not leave the workers table on shutdown")

    async def beat(self) -> None:
        async with self._uow() as tx:
            await tx.workers.beat(self.worker.id, self.worker.host, self.worker.pid, self._clock.now())

    async def sweep(self) -> Recovered:
        """Recover every dead worker (and messages that name none). Reads first, so a sweep that
        finds nothing takes no write lock."""
        edge = self._clock.now() - timedelta(seconds=self.policy.dead_after_seconds)
        async with self._uow.read() as tx:
            silent = [w for w in await tx.workers.silent_since(edge) if w != self.worker.id]
            unowned = await tx.messages.stranded([])
        if not silent and not unowned:
            return Recovered()
        async with self._uow() as tx:
            dead = await tx.workers.claim(silent, edge)
            recovered = await self._recover_in(tx, dead)
        if recovered.workers or recovered.messages:
            log.warning("recovered after a crash: workers %s; %d messages interrupted, %d tokens charged by "
                        "estimate, %d reserved tokens released", ", ".join(recovered.workers) or "none",
                        recovered.messages, recovered.tokens_charged, recovered.tokens_released)
        return recovered

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.policy.heartbeat_seconds)
            try:
                await self.beat()
                await self.sweep()
            except Exception:  # the next beat tries again
                log.exception("worker heartbeat or crash recovery failed")

    async def _recover_in(self, tx: Tx, dead: list[str]) -> Recovered:
        holds = await tx.holds.of_workers(dead)
        paying = {h.message_id: h for h in holds if h.message_id is not None}
        recovered = Recovered(workers=dead)
        for message, owner in await tx.messages.stranded(dead):
            hold = paying.get(message.id)
            entry = self._charge(message, owner, hold)
            message.status, message.error, message.updated_at = MessageStatus.INTERRUPTED, STOPPED, entry.created_at
            message.usage = TokenUsage(prompt_tokens=entry.tokens_prompt, completion_tokens=entry.tokens_completion,
                                       estimated=True)
            if not await tx.messages.finish_stranded(message):
                continue  # another worker finished it first
            spent = entry.tokens_prompt + entry.tokens_completion
            await tx.quotas.settle(owner, 0, spent)
            await tx.quotas.record(entry)  # also counts towards the key's total
            recovered.messages += 1
            recovered.tokens_charged += spent
        for hold in holds:
            await tx.quotas.settle(hold.user_id, hold.tokens, 0)
            if hold.key_id is not None:
                await tx.quotas.settle_key(hold.key_id, hold.tokens)
            recovered.tokens_released += hold.tokens
        await tx.holds.drop(dead)
        return recovered

    def _charge(self, message: Message, owner: int, hold: StoredHold | None) -> UsageEntry:
        """The stranded turn's estimate: what was stored on its message when its round began (the
        rounds before and the prompt) plus the text streamed until the last flush; at most its hold."""
        base = message.usage or TokenUsage()
        prompt = base.prompt_tokens
        completion = base.completion_tokens + self._counter.count_text(message.text + message.reasoning)
        if hold is not None and prompt + completion > hold.tokens:
            prompt = min(prompt, hold.tokens)
            completion = hold.tokens - prompt
        return UsageEntry(
            user_id=owner, tokens_prompt=prompt, tokens_completion=completion, model=message.model or "",
            created_at=self._clock.now(), key_id=hold.key_id if hold is not None else None,
            conversation_id=message.conversation_id, message_id=message.id, estimated=True,
        )
