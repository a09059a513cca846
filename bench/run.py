"""One benchmark run: Switchboard against going direct to the upstream, and against a do-nothing relay.

    uv run python -m bench.run                 # the full run, about three minutes
    uv run python -m bench.run --tiny          # a few requests per scenario (the smoke test)
    uv run python -m bench.run --only plain-c16,stream-c64

Starts the fake upstream, the relay and `switchboard serve` (bench/harness.py), runs every scenario
(bench/scenarios.py) against each of its targets one after the other, prints absolute numbers
and ratios against "direct", the peak RSS of each process and the pass marks, and writes the
whole result as JSON under bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import math
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

from bench.harness import SERVER, Stack, running_stack
from bench.load import Load, LoadResult
from bench.scenarios import CHECKS, SCENARIOS, Scenario, build_targets, models_used

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
        print(f"  {scenario.name:<18} {name:<20} {result.requests:>6} ok {result.errors:>4} errors"
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


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None, reference: float | None) -> str:
    if not value or not reference:
        return "-"
    return f"{value / reference:.2f}x"


def table(results: dict[str, list[LoadResult]]) -> str:
    head = ("scenario", "target", "ok", "err", "req/s", "p50 ms", "p99 ms", "TTFT p50", "TTFT p99",
            "chunks/s", "thruput/direct", "p50/direct", "TTFT +ms", "hop CPU ms/req")
    rows = [head]
    for scenario, runs in results.items():
        reference = runs[0]
        for r in runs:
            throughput, ref_throughput = (r.chunks_per_s, reference.chunks_per_s) if r.kind == "stream" else (
                r.rps, reference.rps)
            added = (None if r.ttft_p50_ms is None or reference.ttft_p50_ms is None
                     else r.ttft_p50_ms - reference.ttft_p50_ms)
            rows.append((
                scenario, r.target, str(r.requests), str(r.errors), _fmt(r.rps), _fmt(r.p50_ms, 2), _fmt(r.p99_ms, 2),
                _fmt(r.ttft_p50_ms, 2), _fmt(r.ttft_p99_ms, 2), _fmt(r.chunks_per_s, 0),
                _ratio(throughput, ref_throughput), _ratio(r.p50_ms, reference.p50_ms),
                _fmt(added, 2) if r is not reference else "-",
                _fmt(r.extra.get("hop_cpu_ms_per_request"), 3),
            ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def evaluate_checks(results: dict[str, list[LoadResult]]) -> list[dict[str, Any]]:
    verdicts = []
    for check in CHECKS:
        runs = {r.target: r for r in results.get(check.scenario, [])}
        reference = results.get(check.scenario, [None])[0]
        if check.target not in runs or reference is None:
            continue
        if check.versus and check.versus not in runs:
            continue
        value, passed = check.evaluate(runs[check.target], reference, runs)
        verdicts.append({"check": check.description, "target": check.target, "value": round(value, 3),
                         "limit": check.limit, "at_most": check.at_most, "unit": check.unit, "passed": passed})
    return verdicts


async def bench(scenarios: list[Scenario], profile: Path | None = None) -> dict[str, Any]:
    started = time.time()
    load_at_start = os.getloadavg()  # other work on the machine skews everything: note it
    async with running_stack(models_used(scenarios)) as stack:
        idle = {p.name: p.status_kb("VmRSS") for p in stack.processes}
        targets = build_targets(stack)
        results: dict[str, list[LoadResult]] = {}
        for scenario in scenarios:
            results[scenario.name] = await run_scenario(stack, scenario, targets, profile)
        peak = {p.name: p.status_kb("VmHWM") for p in stack.processes}
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(started)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_average_at_start": load_at_start,
        "server": SERVER,  # BENCH_SERVER: the HTTP server switchboard ran on
        "duration_s": round(time.time() - started, 1),
        "scenarios": [s.__dict__ for s in scenarios],
        "results": {name: [r.as_dict() for r in runs] for name, runs in results.items()},
        "idle_rss_kb": idle,
        "peak_rss_kb": peak,
        "checks": evaluate_checks(results),
    }
    print()
    print(table(results))
    print()
    print("RSS (MiB)   " + "   ".join(
        f"{name}: idle {(idle[name] or 0) / 1024:.1f}, peak {(peak[name] or 0) / 1024:.1f}" for name in peak))
    for verdict in report["checks"]:
        mark = "met " if verdict["passed"] else "MISSED"
        sign = "<=" if verdict["at_most"] else ">="
        print(f"[{mark}] {verdict['check']}: {verdict['value']}{verdict['unit']} "
              f"(target {sign} {verdict['limit']}{verdict['unit']})")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Switchboard benchmark: ratios against the upstream, one run")
    parser.add_argument("--tiny", action="store_true", help="a few requests per scenario (smoke test)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--out", default=None, help="result JSON (default: bench/results/<time>.json)")
    parser.add_argument("--no-out", action="store_true", help="do not write a result file")
    parser.add_argument("--profile", default=None, metavar="DIR",
                        help="sample each hop process with py-spy while it is measured; stacks go to DIR")
    args = parser.parse_args(argv)
    scenarios = SCENARIOS
    if args.only:
        wanted = {name.strip() for name in args.only.split(",") if name.strip()}
        unknown = wanted - {s.name for s in SCENARIOS}
        if unknown:
            parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
        scenarios = [s for s in SCENARIOS if s.name in wanted]
    if args.tiny:
        scenarios = [s.tiny() for s in scenarios]
    out = None if args.no_out else Path(args.out) if args.out else RESULTS / time.strftime("%Y%m%d-%H%M%S.json")
    import uvloop

    report = uvloop.run(bench(scenarios, Path(args.profile) if args.profile else None))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2, default=str))
        print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
