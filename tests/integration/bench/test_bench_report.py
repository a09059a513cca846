"""`bench.run --runs N`'s report, without processes: one table row per target with every run's
figure, and the pass marks judged on the median of the runs' values (with 3 runs: met in at least
2 of 3). No timing assertions: the figures here are made up."""

from __future__ import annotations

from bench.load import LoadResult
from bench.report import evaluate_checks, table


def _plain(target: str, rps: float, hop_cpu: float | None = None) -> LoadResult:
    result = LoadResult(target, "plain", 1, 100, 0, 1.0, rps, 1.0, 2.0)
    if hop_cpu is not None:
        result.extra["hop_cpu_ms_per_request"] = hop_cpu
    return result


def _run(hop_cpu: float) -> dict[str, list[LoadResult]]:
    return {"plain-c1": [_plain("direct", 1000.0), _plain("relay", 500.0, 0.2),
                         _plain("switchboard-native", 100.0, hop_cpu)]}


def test_every_run_s_figure_is_in_one_row_and_the_same_ones_once() -> None:
    printed = table([_run(1.2), _run(1.4), _run(3.0)])

    native = next(line for line in printed.splitlines() if "| switchboard-native" in line)
    assert "1.200 / 1.400 / 3.000" in native
    assert "| 100 |" in native  # the same request count in every run: shown once


def test_a_check_is_judged_on_the_median_of_its_runs() -> None:
    [met] = evaluate_checks([_run(1.2), _run(1.4), _run(3.0)])  # plain-c1 has one check: hop CPU <= 1.5 ms
    [missed] = evaluate_checks([_run(1.2), _run(1.6), _run(3.0)])

    assert (met["value"], met["runs"], met["passed"]) == (1.4, [1.2, 1.4, 3.0], True)
    assert (missed["value"], missed["passed"]) == (1.6, False)
