"""Stored streamed turns in process (as bench/turn_inproc.py): CPU per 200-chunk stream at 16 at a
time, and, with `--profile`, the Python calls per stream on the event loop's thread (cProfile),
the ranking of their costs and the calls per chunk.

    python -m bench.stream_inproc [--streams 640] [--rounds 2] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time

from bench.turn_inproc import App, app_in_process, call, run, user_with_conversations

CHUNKS = 200


async def measure(app: App, streams: int, rounds: int, profile: bool, soak: int) -> None:
    token, conversations = await user_with_conversations(app, 100)
    count = 0

    async def stream(chunks: int, path: str = "/api/messages/stream") -> None:
        nonlocal count
        conversation, count = conversations[(count // 10) % len(conversations)], count + 1
        status, body = await call(app, path, {
            "conversation_id": conversation, "content": "hello there", "model": f"bench-{chunks}",
            "tools_enabled": False}, token)
        if status != 200 or (path.endswith("stream") and body.count(b"event: text\n") != chunks):
            raise RuntimeError(f"stream failed ({status}): {body[:300]!r}")

    async def clients(total: int, chunks: int = CHUNKS, path: str = "/api/messages/stream") -> float:
        async def client() -> None:
            for _ in range(total // 16):
                await stream(chunks, path)
        cpu = time.process_time()
        await asyncio.gather(*(client() for _ in range(16)))
        return (time.process_time() - cpu) / total * 1e3

    await clients(160)  # warm
    await clients(160, 20, "/api/messages/")
    for number in range(rounds):
        long, short = await clients(streams), await clients(streams, 1)
        plain = await clients(streams, 20, "/api/messages/")
        print(f"round {number + 1}, ms CPU per turn, 16 at a time: {CHUNKS}-chunk stream {long:.3f}, 1-chunk stream "
              f"{short:.3f}, plain {plain:.3f}; per chunk {(long - short) / (CHUNKS - 1) * 1e3:.2f} us", flush=True)
    if soak:  # long streams only, for a sampling profiler attached from outside (py-spy)
        print(f"soak: {await clients(soak):.3f} ms CPU per {CHUNKS}-chunk stream", flush=True)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await clients(streams, CHUNKS)
        profiler.disable()
        stats = pstats.Stats(profiler)
        calls = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
        print(f"profiled: {calls / streams:.0f} Python calls per stream on the loop thread, "
              f"{calls / streams / CHUNKS:.1f} per chunk")
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats("switchboard", 60)


async def main(streams: int, rounds: int, profile: bool, soak: int) -> None:
    async with app_in_process(["bench-200", "bench-20", "bench-1"]) as app:
        await measure(app, streams, rounds, profile, soak)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=640)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--soak", type=int, default=0, help="then this many long streams alone (to sample)")
    args = parser.parse_args()
    run(main(args.streams, args.rounds, args.profile, args.soak))
