"""The benchmark harness still runs end to end (tiny mode: a few requests per scenario).

No timing assertions here — speed is measured by `python -m bench.run`, never by tests. This only
checks that every scenario reached every target and that all the answers were complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from bench.scenarios import CHECKS, SCENARIOS

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.timeout(240)
def test_the_tiny_benchmark_runs_every_scenario_against_every_target(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if k != "BENCH_LITELLM"}  # the optional reference stays out
    done = subprocess.run([sys.executable, "-m", "bench.run", "--tiny", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=220, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = orjson.loads(out.read_bytes())

    assert set(report["results"]) == {s.name for s in SCENARIOS}
    for scenario in SCENARIOS:
        runs = report["results"][scenario.name]
        assert [r["target"] for r in runs] == [t for t in scenario.targets if t != "litellm"]
        for run in runs:
            assert run["requests"] > 0 and run["errors"] == 0, run
            if scenario.kind == "stream":
                assert run["chunks"] == run["requests"] * scenario.expected_tokens, run
    assert report["peak_rss_kb"]["switchboard"] > 0
    assert {c["check"] for c in report["checks"]} == {c.description for c in CHECKS}
    assert "switchboard-native" in done.stdout  # the table was printed
