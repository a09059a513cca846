"""scripts/build-web as ./scripts/serve and ./scripts/test run it: it builds a copy of web/ when the
build is missing or older than a source file, says so in one line, and is silent when fresh.
The copy shares the repository's node_modules (so no `npm ci`, and no network)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"

needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None or not (WEB / "node_modules" / ".package-lock.json").exists(),
    reason="needs npm and web/node_modules (npm --prefix web ci)")


def build(copy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "scripts" / "build-web")], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "BUILD_WEB_DIR": str(copy)})


@needs_npm
@pytest.mark.timeout(600)  # two real builds on a busy machine
def test_it_builds_when_stale_and_is_quiet_when_fresh(tmp_path: Path) -> None:
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy, ignore=shutil.ignore_patterns("node_modules", "dist", ".build-web.lock"))
    (copy / "node_modules").symlink_to(WEB / "node_modules")
    first = build(copy)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "· building the web app (vite build) …"  # node_modules is current: no npm ci
    assert (copy / "dist" / "index.html").is_file()
    assert list((copy / "dist" / "assets").glob("*.js"))

    fresh = build(copy)
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == (0, "", "")

    source = copy / "src" / "main.ts"
    stamp = (copy / "dist" / "index.html").stat().st_mtime
    os.utime(source, (stamp + 10, stamp + 10))  # edited after the build
    rebuilt = build(copy)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "building the web app" in rebuilt.stdout
    assert (copy / "dist" / "index.html").stat().st_mtime > stamp


def test_without_node_it_says_so_and_fails_with_its_own_status(tmp_path: Path) -> None:
    """./scripts/serve goes on without the web app on status 3; ./scripts/test stops."""
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy, ignore=shutil.ignore_patterns("node_modules", "dist", ".build-web.lock"))
    tools = tmp_path / "bin"  # everything the script uses, but no node or npm
    tools.mkdir()
    for tool in ("bash", "find", "flock", "mktemp", "rm", "cat", "dirname"):
        found = shutil.which(tool)
        assert found is not None, tool
        (tools / tool).symlink_to(found)
    done = subprocess.run([str(tools / "bash"), str(ROOT / "scripts" / "build-web")], capture_output=True,
                          text=True, timeout=60, env={"PATH": str(tools), "BUILD_WEB_DIR": str(copy)})
    assert done.returncode == 3, done.stderr
    assert "node and npm are not installed" in done.stderr
    assert not (copy / "dist").exists()
