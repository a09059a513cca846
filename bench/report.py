"""The printed report of one invocation of `bench.run`: one table over all its runs (each figure's
runs side by side, "3.61 / 3.70 / 3.58") and the pass marks judged on the median of the runs.

A run is {scenario: [LoadResult per target]}; every run of an invocation has the same scenarios
and targets. A check's value is computed within each run (a ratio against that run's reference,
never across runs: the shared machine's load moves every target of a run alike) and the verdict
takes the median of those values; with 3 runs that is "met in at least 2 of 3".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from bench.load import LoadResult
from bench.scenarios import CHECKS

Run = dict[str, list[LoadResult]]

HEAD = ("scenario", "target", "ok", "err", "req/s", "p50 ms", "p99 ms", "TTFT p50", "TTFT p99",
        "chunks/s", "thruput/direct", "p50/direct", "TTFT +ms", "hop CPU ms/req")


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None, reference: float | None) -> str:
    if not value or not reference:
        return "-"
    return f"{value / reference:.2f}x"


def _cells(r: LoadResult, reference: LoadResult) -> tuple[str, ...]:
    """One target's figures in one run (the first result of its scenario is the reference)."""
    throughput, ref_throughput = (r.chunks_per_s, reference.chunks_per_s) if r.kind == "stream" else (
        r.rps, reference.rps)
    added = (None if r.ttft_p50_ms is None or reference.ttft_p50_ms is None
             else r.ttft_p50_ms - reference.ttft_p50_ms)
    return (
        str(r.requests), str(r.errors), _fmt(r.rps), _fmt(r.p50_ms, 2), _fmt(r.p99_ms, 2),
        _fmt(r.ttft_p50_ms, 2), _fmt(r.ttft_p99_ms, 2), _fmt(r.chunks_per_s, 0),
        _ratio(throughput, ref_throughput), _ratio(r.p50_ms, reference.p50_ms),
        _fmt(added, 2) if r is not reference else "-",
        _fmt(r.extra.get("hop_cpu_ms_per_request"), 3),
    )


def _joined(values: list[str]) -> str:
    """A figure over the runs: once when every run shows the same ("-", a fixed request count)."""
    return values[0] if len(set(values)) == 1 else " / ".join(values)


def table(runs: list[Run]) -> str:
    rows = [HEAD]
    for scenario, first in runs[0].items():
        for index, r in enumerate(first):
            per_run = [_cells(run[scenario][index], run[scenario][0]) for run in runs]
            rows.append((scenario, r.target, *(_joined([cells[i] for cells in per_run])
                                               for i in range(len(HEAD) - 2))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEAD))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _run_values(run: Run) -> dict[str, float]:
    """Every check this run can judge, by description: its value in this run."""
    values = {}
    for check in CHECKS:
        results = run.get(check.scenario, [])
        by_target = {r.target: r for r in results}
        if check.target not in by_target or not results or (check.versus and check.versus not in by_target):
            continue
        values[check.description] = check.evaluate(by_target[check.target], results[0], by_target)[0]
    return values


def evaluate_checks(runs: list[Run]) -> list[dict[str, Any]]:
    """The verdicts on the median of each check's per-run values (with every run's value kept)."""
    per_run = [_run_values(run) for run in runs]
    verdicts = []
    for check in CHECKS:
        values = [values[check.description] for values in per_run if check.description in values]
        if not values:
            continue
        median = statistics.median(values)
        passed = median <= check.limit if check.at_most else median >= check.limit
        verdicts.append({"check": check.description, "target": check.target, "value": round(median, 3),
                         "runs": [round(v, 3) for v in values], "limit": check.limit, "at_most": check.at_most,
                         "unit": check.unit, "passed": passed})
    return verdicts


def print_checks(verdicts: list[dict[str, Any]], out: Callable[[str], None] = print) -> None:
    for verdict in verdicts:
        mark = "met " if verdict["passed"] else "MISSED"
        sign = "<=" if verdict["at_most"] else ">="
        runs = verdict["runs"]
        spread = f" (median of {' / '.join(map(str, runs))})" if len(runs) > 1 else ""
        out(f"[{mark}] {verdict['check']}: {verdict['value']}{verdict['unit']}{spread} "
            f"(target {sign} {verdict['limit']}{verdict['unit']})")
