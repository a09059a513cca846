"""Rules of design.md that a test can hold: module size, and the import contracts."""

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "switchboard"
HARD_CAP = 400


def test_no_module_exceeds_the_hard_cap() -> None:
    too_big = {
        str(path.relative_to(SRC)): lines
        for path in SRC.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > HARD_CAP
    }
    assert not too_big, f"split these modules by concept (hard cap {HARD_CAP} lines): {too_big}"


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=SRC.parents[1])
    assert result.returncode == 0, result.stdout + result.stderr
