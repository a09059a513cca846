"""A stored turn's writes around the provider call, in process, every turn of ONE user (so every
turn's start and end lock the same quota row): "one by one" as main did them (the start's
reservation in the middle of its step, the end's five statements after its settlement) against
"quota last" (the start's reservation its last statement; the end one TurnRepo.finish, on
PostgreSQL one statement). Process CPU per turn and turns/s at 1 and 16 turns at a time. No reads,
no HTTP, no provider.

    python -m bench.turn_quota [--postgres] [--turns 800] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from bench.harness import fresh_database
from switchboard.adapters.storage import SqlUnitOfWork, upgrade_database
from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    TokenUsage,
    text_parts,
)
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.quotas import StoredHold, UsageEntry
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.ports.storage import Tx
from switchboard.core.services.quotas.allowances import Hold, QuotaPolicy, QuotaService

Turn = Callable[[SqlUnitOfWork, QuotaService, Principal, Conversation], Awaitable[None]]


def _rows(conversation_id: str) -> tuple[Message, Message]:
    now = datetime.now(UTC)
    question = Message(id=0, conversation_id=conversation_id, role="user", parts=text_parts("hello"),
                       status=MessageStatus.COMPLETED, created_at=now, updated_at=now)
    answer = Message(id=0, conversation_id=conversation_id, role="assistant", parts=[],
                     status=MessageStatus.STREAMING, created_at=now, updated_at=now, model="bench",
                     worker_id="bench", usage=TokenUsage(prompt_tokens=10, estimated=True))
    return question, answer


def _end(answer: Message, principal: Principal) -> tuple[Message, UsageEntry]:
    now = datetime.now(UTC)
    done = dataclasses.replace(answer, parts=text_parts("tok " * 20), status=MessageStatus.COMPLETED,
                               updated_at=now, usage=TokenUsage(prompt_tokens=10, completion_tokens=20))
    entry = UsageEntry(user_id=principal.user_id, tokens_prompt=10, tokens_completion=20, model="bench",
                       created_at=now, conversation_id=answer.conversation_id, message_id=answer.id)
    return done, entry


async def one_by_one(uow: SqlUnitOfWork, quotas: QuotaService, who: Principal, conversation: Conversation) -> None:
    async def start(tx: Tx) -> tuple[Message, Hold]:
        question, answer = _rows(conversation.id)
        await tx.messages.add(question)
        answer = await tx.messages.add(answer)
        grant = await tx.quotas.reserve(who.user_id, 110, 26)  # main's reserve_in: reserve, hold, then the rest
        hold = Hold(who.user_id, grant.tokens, 10, grant.tokens - 10, None, new_id("hold"))
        await tx.holds.add(StoredHold(hold.id, quotas.worker_id, who.user_id, hold.tokens, None, answer.id))
        await tx.conversations.update(conversation)
        return answer, hold

    answer, hold = await uow.run(start)
    done, entry = _end(answer, who)

    async def end(tx: Tx) -> int | None:
        await tx.messages.update(done)
        await quotas.settle_in(tx, hold, entry)
        return await tx.conversations.revision(done.conversation_id)

    await uow.run(end)


async def quota_last(uow: SqlUnitOfWork, quotas: QuotaService, who: Principal, conversation: Conversation) -> None:
    async def start(tx: Tx) -> tuple[Message, Hold]:
        question, answer = _rows(conversation.id)
        await tx.messages.add(question)
        answer = await tx.messages.add(answer)
        await tx.conversations.update(conversation)
        return answer, await quotas.reserve_in(tx, who, 10, 100, answer.id)

    answer, hold = await uow.run(start)
    done, entry = _end(answer, who)
    await uow.run(lambda tx: quotas.finish_turn_in(tx, done, hold, entry))


@contextlib.asynccontextmanager
async def _database(postgres: bool) -> AsyncIterator[str]:
    if postgres:
        async with fresh_database() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="turn-quota-") as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"


async def measure(turn: Turn, postgres: bool, turns: int, concurrency: int) -> tuple[float, float]:
    """(µs of process CPU per turn, turns/s) on a fresh database."""
    async with _database(postgres) as url:
        await upgrade_database(url)
        uow = SqlUnitOfWork(url)
        try:
            now = datetime.now(UTC)
            async with uow() as tx:
                user = await tx.users.add("bench", None, None, Role.USER)
                await tx.quotas.ensure(user.id, 10**12, False)
                conversations = [Conversation(id=f"c{i}", user_id=user.id, title="t", settings=ConversationSettings(),
                                              created_at=now, updated_at=now) for i in range(concurrency)]
                for conversation in conversations:
                    await tx.conversations.add(conversation)
            who = Principal(user.id, "bench", Role.USER, frozenset({Scope.CHAT}), via="jwt")
            quotas = QuotaService(uow, QuotaPolicy(completion_reserve=100, min_completion=16))

            async def worker(conversation: Conversation, count: int) -> None:
                for _ in range(count):
                    await turn(uow, quotas, who, conversation)

            await worker(conversations[0], 20)  # warm-up: statements prepared, connections open
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker(c, turns // concurrency) for c in conversations))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            done = turns // concurrency * concurrency
            return cpu / done * 1e6, done / wall
        finally:
            await uow.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--turns", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{'way':<12} {'c1 µs CPU/turn':>15} {'c1 turns/s':>11} {'c16 µs CPU/turn':>16} {'c16 turns/s':>12}")
    for _ in range(args.rounds):
        for name, turn in (("one by one", one_by_one), ("quota last", quota_last)):
            c1 = await measure(turn, args.postgres, args.turns // 4, 1)
            c16 = await measure(turn, args.postgres, args.turns, 16)
            print(f"{name:<12} {c1[0]:>15.0f} {c1[1]:>11.0f} {c16[0]:>16.0f} {c16[1]:>12.0f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
