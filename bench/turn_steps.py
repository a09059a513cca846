"""A stored turn's storage before the provider is called, two ways, on SQLite, in process:
"split" as the engine does it (a `run_read` step on a reader thread — conversation, user, 20
messages of history — then a `run` step on the writer: user message, answer row, conversation),
and "merged" (the same reads and writes as one `run` step on the writer, one hand-off fewer).
Process CPU per turn and turns/s, with 1 and with 16 turns at a time. No quota hold, no HTTP.

    python -m bench.turn_steps [--turns 1600] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bench.history_read import seeded_store
from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.conversations import Conversation, Message, MessageStatus, TokenUsage, text_parts
from switchboard.core.ports.storage import Tx

Turn = Callable[[SqlUnitOfWork, int], Awaitable[None]]


def _new_rows() -> tuple[Message, Message]:
    now = datetime.now(UTC)
    question = Message(id=0, conversation_id="bench", role="user", parts=text_parts("hello"),
                       status=MessageStatus.COMPLETED, created_at=now, updated_at=now)
    answer = Message(id=0, conversation_id="bench", role="assistant", parts=[], status=MessageStatus.STREAMING,
                     created_at=now, updated_at=now, model="bench", worker_id="bench",
                     usage=TokenUsage(prompt_tokens=10, estimated=True))
    return question, answer


async def _read(tx: Tx, user_id: int) -> Conversation:
    conversation = await tx.conversations.get("bench")
    assert conversation is not None
    await tx.users.get(user_id)
    await tx.messages.list("bench", 20)
    return conversation


async def _write(tx: Tx, conversation: Conversation) -> None:
    question, answer = _new_rows()
    await tx.messages.add(question)
    await tx.messages.add(answer)
    await tx.conversations.update(conversation)


async def split(uow: SqlUnitOfWork, user_id: int) -> None:
    conversation = await uow.run_read(lambda tx: _read(tx, user_id))
    await uow.run(lambda tx: _write(tx, conversation))


async def merged(uow: SqlUnitOfWork, user_id: int) -> None:
    async def both(tx: Tx) -> None:
        await _write(tx, await _read(tx, user_id))

    await uow.run(both)


async def measure(turn: Turn, turns: int, at_once: int) -> tuple[float, float]:
    """Microseconds of process CPU per turn, and turns per second."""
    async with seeded_store() as (uow, user_id):
        for _ in range(100):  # warm: statement cache, threads
            await turn(uow, user_id)
        each = turns // at_once

        async def client() -> None:
            for _ in range(each):
                await turn(uow, user_id)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client() for _ in range(at_once)))
        done = each * at_once
        return (time.process_time() - cpu) / done * 1e6, done / (time.perf_counter() - wall)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    for round_number in range(args.rounds):
        for name, turn in (("split", split), ("merged", merged)):
            for at_once in (1, 16):
                cpu, rate = asyncio.run(measure(turn, args.turns, at_once))
                print(f"round {round_number} {name:6} c{at_once:<2} {cpu:5.0f} us CPU/turn {rate:5.0f} turns/s",
                      flush=True)


if __name__ == "__main__":
    main()
