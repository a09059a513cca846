"""One benchmark run: Switchboard against going direct to the upstream, and against a do-nothing relay.

    uv run python -m bench.run                 # the full run, about three minutes
    uv run python -m bench.run --tiny          # a few requests per scenario (the smoke test)
    uv run python -m bench.run --only plain-c16,stream-c64
    uv run python -m bench.run --only plain-c1,plain-c16 --runs 3 --postgres

Starts the fake upstream, the relay and `switchboard serve` (bench/harness.py), runs every scenario
(bench/scenarios.py) against each of its targets one after the other, prints absolute numbers
and ratios against "direct", the peak RSS of each process and the pass marks, and writes the
whole result as JSON under bench/results/ (git-ignored). `--runs N` does all that N times, each
on a fresh stack, and prints one table (bench/report.py) with the checks judged on the median.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from bench.harness import SERVER, Stack, fresh_database, running_stack
from bench.load import Load, LoadResult
from bench.report import Run, evaluate_checks, print_checks, table
from bench.scenarios import SCENARIOS, Scenario, build_targets, models_used

RESULTS = Path(__file__).resolve().parent / "results"


def hop_process(stack: Stack, target: str) -> str | None:
    """The process whose CPU time is the hop's own cost for a target ("relay", "switchboard-v1" ...)."""
    prefix = target.split("-")[0]
    return prefix if any(p.name == prefix for p in stack.processes) and prefix != "upstream" else None


async def run_scenario(
    stack: Stack, scenario: Scenario, targets: dict[str, Any], profile: Path | None = None,
) -> list[LoadResult]:
    """Every target of the scenario (litellm only when installed). With `scenario.blocks` > 1 the
    targets take turns: each one's requests are split into that many blocks, driven one target
    after another in a rotating order, so a slow moment of the machine falls on all of them alike.
    A target's CPU time counts only its own blocks; its connections stay open between them."""
    names = [name for name in scenario.targets if name in targets]
    loads = {name: Load(targets[name], scenario.kind, scenario.model, scenario.concurrency,
                        scenario.expected_tokens) for name in names}
    cpu = {name: dict.fromkeys((p.name for p in stack.processes), 0.0) for name in names}
    hops = {name: hop_process(stack, name) for name in names}
    spies = [await start_profiler(stack, hop, profile / f"{scenario.name}-{name}.txt")
             for name, hop in hops.items() if profile and hop]
    try:
        for load in loads.values():
            await load.open(scenario.max_requests, scenario.warmup, scenario.seconds)
        for block in range(scenario.blocks):
            turn = block % len(names)
            for name in names[turn:] + names[:turn]:
                before = {p.name: p.cpu_seconds() for p in stack.processes}
                await loads[name].drive(_share(scenario.max_requests, scenario.blocks, block),
                                        scenario.seconds / scenario.blocks)
                for p in stack.processes:
                    cpu[name][p.name] += p.cpu_seconds() - before[p.name]
    finally:
        for load in loads.values():
            await load.close()
        for spy in spies:
            if spy is not None:
                await stop_profiler(spy)
    results = []
    for name, load in loads.items():
        result = load.result()
        result.extra["cpu_s"] = {process: round(seconds, 3) for process, seconds in cpu[name].items()}
        hop = hops[name]
        if hop and result.requests:
            result.extra["hop_cpu_ms_per_request"] = round(cpu[name][hop] * 1000 / result.requests, 3)
        results.append(result)
        print(f"  {scenario.name:<18} {name:<24} {result.requests:>6} ok {result.errors:>4} errors"
              f"  {result.seconds:6.1f} s" + (f"  ({result.first_error})" if result.first_error else ""),
              flush=True)
    return results


def _share(requests: int, blocks: int, block: int) -> int:
    """Block `block`'s part of `requests` split into `blocks` nearly equal parts."""
    return requests // blocks + (1 if block < requests % blocks else 0)


async def start_profiler(stack: Stack, process: str, out: Path) -> asyncio.subprocess.Process | None:
    """py-spy (a dev dependency) sampling the hop's process while one target runs: collapsed
    stacks in `out`, read them with `python -m bench.profile <file>`."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        print("  (py-spy is not installed: uv add --dev py-spy)")
        return None
    pid = next(p.pid for p in stack.processes if p.name == process)
    out.parent.mkdir(parents=True, exist_ok=True)
    recorder = await asyncio.create_subprocess_exec(
        str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "250", "--nonblocking", "--gil",
        "--output", str(out), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(0.5)  # attached before the load starts
    return recorder


async def stop_profiler(recorder: asyncio.subprocess.Process) -> None:
    recorder.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    try:
        await asyncio.wait_for(recorder.wait(), 20)
    except TimeoutError:
        recorder.kill()
        await recorder.wait()


async def one_run(scenarios: list[Scenario], profile: Path | None, database_url: str | None) -> dict[str, Any]:
    """Every scenario once, on a stack of its own (fresh processes, a fresh SQLite or `database_url`)."""
    started = time.time()
    load_at_start = os.getloadavg()  # other work on the machine skews everything: note it
    async with running_stack(models_used(scenarios), database_url=database_url) as stack:
        idle = {p.name: p.status_kb("VmRSS") for p in stack.processes}
        targets = build_targets(stack)
        results: Run = {}
        for scenario in scenarios:
            results[scenario.name] = await run_scenario(stack, scenario, targets, profile)
        peak = {p.name: p.status_kb("VmHWM") for p in stack.processes}
    print("RSS (MiB)   " + "   ".join(
        f"{name}: idle {(idle[name] or 0) / 1024:.1f}, peak {(peak[name] or 0) / 1024:.1f}" for name in peak))
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(started)),
            "load_average_at_start": load_at_start, "duration_s": round(time.time() - started, 1),
            "results": results, "idle_rss_kb": idle, "peak_rss_kb": peak}


async def bench(scenarios: list[Scenario], runs: int = 1, profile: Path | None = None,
                postgres: bool = False) -> dict[str, Any]:
    """`runs` runs of every scenario, one after another; one table over them, checks on the median."""
    started = time.time()
    done = []
    for index in range(runs):
        print(f"run {index + 1} of {runs}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        async with fresh_database() if postgres else contextlib.nullcontext(None) as database_url:
            done.append(await one_run(scenarios, profile and profile / f"run{index + 1}", database_url))
            # the database's name only (a URL may carry a password)
            done[-1]["database"] = database_url.rsplit("/", 1)[-1] if database_url else None
    checks = evaluate_checks([run["results"] for run in done])
    print()
    print(table([run["results"] for run in done]))
    print()
    print_checks(checks)
    for run in done:  # the JSON keeps every run, each with its own checks
        run["checks"] = evaluate_checks([run["results"]])
        run["results"] = {name: [r.as_dict() for r in results] for name, results in run["results"].items()}
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(started)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "server": SERVER,  # BENCH_SERVER: the HTTP server switchboard ran on
        "database": "postgresql" if postgres or os.environ.get("BENCH_DATABASE_URL") else "sqlite",
        "duration_s": round(time.time() - started, 1),
        "scenarios": [s.__dict__ for s in scenarios],
        "runs": done,
        "checks": checks,  # judged on the median of the runs
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Switchboard benchmark: ratios against the upstream, one run")
    parser.add_argument("--tiny", action="store_true", help="a few requests per scenario (smoke test)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--out", default=None, help="result JSON (default: bench/results/<time>.json)")
    parser.add_argument("--no-out", action="store_true", help="do not write a result file")
    parser.add_argument("--profile", default=None, metavar="DIR",
                        help="sample each hop process with py-spy while it is measured; stacks go to DIR/run<N>/")
    parser.add_argument("--runs", type=int, default=1, metavar="N",
                        help="run the scenarios N times (a fresh stack each); one table, checks on the median")
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL: a fresh database per run (BENCH_POSTGRES_ADMIN's server), dropped after")
    args = parser.parse_args(argv)
    scenarios = SCENARIOS
    if args.only:
        wanted = {name.strip() for name in args.only.split(",") if name.strip()}
        unknown = wanted - {s.name for s in SCENARIOS}
        if unknown:
            parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
        scenarios = [s for s in SCENARIOS if s.name in wanted]
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.tiny:
        scenarios = [s.tiny() for s in scenarios]
    out = None if args.no_out else Path(args.out) if args.out else RESULTS / time.strftime("%Y%m%d-%H%M%S.json")
    import uvloop

    report = uvloop.run(bench(scenarios, args.runs, Path(args.profile) if args.profile else None, args.postgres))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2, default=str))
        print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
