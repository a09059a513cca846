"""CPU of building a turn's provider payload from its history, in process: what a long conversation
may honestly add to a turn (issue 20: "the turn's cost does not grow with history length beyond the
provider payload itself"), and so the allowance of the `plain-long-c1` check (bench/scenarios.py).

Per call, what `ChatEngine.start` and the OpenAI-compatible provider do with the history once it
is read: `provider_messages` (domain messages -> the wire's dicts), the prompt's token estimate
(`HeuristicTokenCounter.count_messages`, the quota hold's size) and the request body's JSON
(`orjson.dumps`, as `OpenAICompatProvider` sends it). The history is what the bench's native
targets build: the bench prompt and 20-token answers, `--long` prior messages (the long target
reads the newest `history_messages`, 100 by default, of its 200) against `--short` (the short
target's conversations last 10 turns: 9 prior messages on average).

    python -m bench.payload_cost [--calls 2000] [--long 100] [--short 9] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

import orjson

from bench.load import PROMPT
from switchboard.adapters.tokens.estimate import HeuristicTokenCounter
from switchboard.core.domain.conversations import Message, MessageStatus, text_parts
from switchboard.core.services.chat.context import provider_messages

ANSWER = "tok " * 20  # the fake upstream's answer to `bench-20`


def history(length: int) -> list[Message]:
    now = datetime.now(UTC)
    return [Message(id=i + 1, conversation_id="bench", role="assistant" if i % 2 else "user",
                    parts=text_parts(ANSWER if i % 2 else PROMPT), status=MessageStatus.COMPLETED,
                    created_at=now, updated_at=now) for i in range(length)]


async def _no_image(file_id: str) -> str:
    raise AssertionError("the bench's history has no images")


async def payload_cpu_us(length: int, calls: int) -> float:
    """Process CPU per payload built from `length` prior messages and the new question, in µs."""
    counter = HeuristicTokenCounter()
    prior = history(length)
    question = history(1)[0]
    started = time.process_time()
    for _ in range(calls):
        messages = await provider_messages(None, [*prior, question], _no_image)
        counter.count_messages(messages)
        orjson.dumps({"model": "bench-20", "messages": messages, "stream": True,
                      "stream_options": {"include_usage": True}})
    return (time.process_time() - started) * 1e6 / calls


async def measure(long: int, short: int, calls: int) -> tuple[float, float]:
    await payload_cpu_us(long, calls // 10)  # warm-up
    return await payload_cpu_us(long, calls), await payload_cpu_us(short, calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--long", type=int, default=100, help="prior messages of a long conversation's turn")
    parser.add_argument("--short", type=int, default=9, help="prior messages of a short conversation's turn")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"payload CPU per turn, µs: {args.long} vs {args.short} prior messages")
    for _ in range(args.rounds):
        long, short = asyncio.run(measure(args.long, args.short, args.calls))
        print(f"  long {long:8.1f}   short {short:8.1f}   long - short {long - short:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
