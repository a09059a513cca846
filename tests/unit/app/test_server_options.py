"""`switchboard serve`'s uvicorn settings: the access log only where its level would print it, no
`server` header, idle connections kept 75 s. Checked through uvicorn's own Config, so a renamed
option fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn

from switchboard.app.cli import server_options
from switchboard.config.settings import Settings


@pytest.mark.parametrize(("level", "access_log"), [("info", True), ("DEBUG", True), ("warning", False),
                                                    ("error", False)])
def test_the_access_log_runs_only_where_its_lines_would_be_printed(
    tmp_path: Path, level: str, access_log: bool,
) -> None:
    config = uvicorn.Config(lambda: None, **server_options(Settings(data_dir=tmp_path, log_level=level)))
    assert config.access_log is access_log
    assert config.server_header is False
    assert config.timeout_keep_alive == 75
    assert (config.loop, config.http) == ("uvloop", "httptools")
