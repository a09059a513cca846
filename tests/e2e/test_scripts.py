"""The README's scripts as a person runs them: a caller's arguments never reach uv, and the server's
set-up never removes the test tools (both broke a first hour)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bash(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_bootstrap_takes_no_arguments_from_its_caller() -> None:
    done = bash('set -- tests/unit/core -k quota --durations=25\n'
                'source scripts/bootstrap; setup_python_env; echo ready')
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ready")


def test_the_server_set_up_keeps_the_test_tools() -> None:
    done = bash("./scripts/switchboard --help")
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout and "users" in done.stdout
    assert (ROOT / ".venv" / "bin" / "pytest").exists()  # --inexact: nothing of the dev group removed
