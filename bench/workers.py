"""How throughput grows with workers: the same load against `serve --workers 1` and `--workers 2`.

    .venv/bin/python -m bench.workers                  # about 2 minutes
    .venv/bin/python -m bench.workers --seconds 3 --concurrency 8

Both runs use PostgreSQL and Redis on 127.0.0.1 (`scripts/services`), as several workers must
(`serve` refuses SQLite with more than one): a fresh database each run, made and dropped by
`bench.harness.fresh_database` (admin DSN: BENCH_POSTGRES_ADMIN, default
postgresql://postgres@127.0.0.1:5432/postgres). Two
scenarios, each a closed loop of `--concurrency` clients for `--seconds`: native plain turns
(`POST /api/messages/`, stored, quotas on) and gateway plain calls (`POST /v1/chat/completions`
with an API key), 20-token answers from the fake upstream. Prints req/s and latency per worker
count and the 2-vs-1 ratio. The fake upstream, the load generator and the workers share the
machine's cores: on 2 cores, 2 workers compete with the load generator for the second one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Process, cpu_seconds, fresh_database, running_stack
from bench.load import Load, LoadResult, NativeTarget, OpenAITarget, Target

MODEL = "bench-20"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SCENARIOS = ("native-plain", "gateway-plain")


def serving_pids(switchboard: Process) -> list[int]:
    """The processes answering requests: uvicorn's workers under `--workers N`, else the one."""
    children = Path(f"/proc/{switchboard.pid}/task/{switchboard.pid}/children").read_text().split()
    # with --workers, the supervisor's children are the workers (and multiprocessing's helper, idle)
    return [int(pid) for pid in children] or [switchboard.pid]


async def measure(target: Target, switchboard: Process, concurrency: int, seconds: float) -> Measured:
    """The load's result and the CPU seconds each serving process spent during the timed part
    (how evenly the kernel spread the connections over the workers)."""
    load = Load(target, "plain", MODEL, concurrency)
    try:
        await load.open(100_000, warmup=2 * concurrency, seconds=seconds)
        pids = serving_pids(switchboard)
        before = [cpu_seconds(pid) for pid in pids]
        await load.drive(100_000, seconds)
        spent = [cpu_seconds(pid) - start for pid, start in zip(pids, before, strict=True)]
    except OSError:  # the server went away: say why (its log), not only that the client saw a reset
        print(switchboard.log_tail(40))
        raise
    finally:
        await load.close()
    return Measured(load.result(), [round(s, 1) for s in spent if s >= 0.05])


@dataclass
class Measured:
    result: LoadResult
    worker_cpu: list[float]  # CPU seconds of each busy serving process


async def run_workers(workers: int, concurrency: int, seconds: float) -> dict[str, Measured]:
    async with fresh_database() as database_url:
        os.environ["BENCH_REDIS_URL"] = REDIS_URL
        async with running_stack([MODEL], workers=workers, database_url=database_url) as stack:
            base = stack.switchboard.url
            return {
                "native-plain": await measure(NativeTarget("native", base, stack.token), stack.switchboard,
                                              concurrency, seconds),
                "gateway-plain": await measure(OpenAITarget("v1", base + "/v1", stack.api_key), stack.switchboard,
                                               concurrency, seconds),
            }


def table(runs: dict[int, dict[str, Measured]]) -> str:
    lines = ["| scenario | workers | ok | err | req/s | p50 ms | p99 ms | req/s vs 1 worker | CPU s per worker |",
             "|---|---|---|---|---|---|---|---|---|"]
    for scenario in SCENARIOS:
        one = runs[1][scenario].result.rps
        for workers, results in runs.items():
            r, cpu = results[scenario].result, results[scenario].worker_cpu
            ratio = f"{r.rps / one:.2f}x" if one else "-"
            lines.append(f"| {scenario} | {workers} | {r.requests} | {r.errors} | {r.rps:,.1f} | {r.p50_ms:,.1f} | "
                         f"{r.p99_ms:,.1f} | {ratio} | {' + '.join(map(str, cpu))} |")
    return "\n".join(lines)


async def main() -> int:
    """0 when every scenario completed requests with no errors (what the smoke test checks)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=32, help="clients of each scenario")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each scenario")
    args = parser.parse_args()
    load_at_start = os.getloadavg()[0]
    runs = {workers: await run_workers(workers, args.concurrency, args.seconds) for workers in (1, 2)}
    print(f"cores: {os.cpu_count()}, load average at start: {load_at_start:.1f}, "
          f"{args.concurrency} clients, {args.seconds:g} s per scenario")
    print(table(runs))
    results = [measured.result for by_scenario in runs.values() for measured in by_scenario.values()]
    for result in results:
        if result.first_error:
            print(f"first error ({result.target}): {result.first_error}")
    return 0 if all(r.requests and not r.errors for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
