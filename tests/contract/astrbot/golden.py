"""Golden files in fixtures/: AstrBot's wire format with ids, times and timings as placeholders.
Run with `UPDATE_GOLDEN=1` to write them afresh (then read the diff before committing it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.contract.astrbot.harness import normalise

FIXTURES = Path(__file__).parent / "fixtures"


def check(name: str, actual: str) -> None:
    path = FIXTURES / name
    text = normalise(actual)
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from the golden file"


def check_json(name: str, status: int, body: Any) -> None:
    check(name, json.dumps({"status_code": status, "body": body}, ensure_ascii=False, indent=1) + "\n")
