"""`python -m bench.workers` still runs end to end (a second per scenario, a few clients): both
scenarios against `serve --workers 1` and `--workers 2` on PostgreSQL and Redis, every answer
complete. No timing assertions: the numbers are the bench's, never a test's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.redis_server import redis_url

__all__ = ["redis_url"]  # the fixture; with postgres_url: PostgreSQL and Redis are up, or the test is skipped

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.postgres


@pytest.mark.timeout(180)
def test_the_workers_benchmark_runs_with_one_and_two_workers(postgres_url: str, redis_url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "bench.workers", "--seconds", "1", "--concurrency", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=170, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| native-plain", "| gateway-plain"))]
    assert [row.split("|")[2].strip() for row in rows] == ["1", "2", "1", "2"], done.stdout
