"""The benchmark harness still runs end to end (tiny mode: a few requests per scenario).

No timing assertions here — speed is measured by `python -m bench.run`, never by tests. This only
checks that every scenario reached every target and that all the answers were complete."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
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
    [run] = report["runs"]

    assert set(run["results"]) == {s.name for s in SCENARIOS}
    for scenario in SCENARIOS:
        results = run["results"][scenario.name]
        assert [r["target"] for r in results] == [t for t in scenario.targets if t != "litellm"]
        for result in results:
            assert result["requests"] > 0 and result["errors"] == 0, result
            if scenario.kind == "stream":
                assert result["chunks"] == result["requests"] * scenario.expected_tokens, result
    assert run["peak_rss_kb"]["switchboard"] > 0
    assert {c["check"] for c in report["checks"]} == {c.description for c in CHECKS}
    assert "switchboard-native" in done.stdout  # the table was printed


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_two_runs_on_a_fresh_postgres_database_make_one_table(postgres_url: str, tmp_path: Path) -> None:
    """`--runs 2 --postgres`: two runs (each on a database of its own, dropped after), every run kept
    in the JSON, one table whose figures show both runs, the checks judged on their median."""
    out = tmp_path / "result.json"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--tiny", "--only", "plain-c1", "--runs", "2",
                           "--postgres", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=110,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = orjson.loads(out.read_bytes())

    assert report["database"] == "postgresql"
    assert len(report["runs"]) == 2
    for run in report["runs"]:
        assert [r["target"] for r in run["results"]["plain-c1"]] == ["direct", "relay", "switchboard-native"]
        assert all(r["requests"] > 0 and r["errors"] == 0 for r in run["results"]["plain-c1"])
    [check] = report["checks"]  # plain-c1's only one: the stored turn's hop CPU
    assert len(check["runs"]) == 2
    native = next(line for line in done.stdout.splitlines() if "| switchboard-native" in line)
    assert " / " in native  # both runs' figures side by side
    made = [run["database"] for run in report["runs"]]
    assert len(set(made)) == 2
    assert not asyncio.run(_existing(postgres_url, made))  # both dropped after their run


async def _existing(postgres_url: str, names: list[str]) -> list[str]:
    """Which of these databases the server still has (`postgres_url` only says where it is)."""
    connection = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await connection.fetch("SELECT datname FROM pg_database WHERE datname = ANY($1::text[])", names)
    finally:
        await connection.close()
    return [row["datname"] for row in rows]
