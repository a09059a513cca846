"""`switchboard serve`'s uvicorn settings: the access log only where its level would print it, no
`server` header, idle connections kept 75 s. Checked through uvicorn's own Config, so a renamed
option fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn

from switchboard.app.coalescing import CoalescingHttpToolsProtocol
from switchboard.app.logs import logging_config
from switchboard.app.servers import GRANIAN_IDLE_MS, granian_options, server_options, trusted_forwarders
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
    assert (config.loop, config.http) == ("uvloop", CoalescingHttpToolsProtocol)


@pytest.mark.parametrize(("level", "granian_level"), [("info", "info"), ("warning", "warning"), ("trace", "debug")])
def test_granian_gets_the_same_logging_and_keeps_connections_as_long_as_it_can(
    tmp_path: Path, level: str, granian_level: str,
) -> None:
    """Checked against granian's own Server signature, so a renamed option fails here (building
    a Server would configure this process's logging)."""
    import inspect

    from granian.server import Server

    settings = Settings(data_dir=tmp_path, log_level=level)
    options = granian_options(settings)
    assert set(options) <= set(inspect.signature(Server).parameters)
    assert options["log_level"] == granian_level and options["log_access"] is False
    assert options["log_dictconfig"] == logging_config(level, settings.log_format)
    assert options["http1_settings"].keep_alive is True
    assert options["http1_settings"].header_read_timeout == GRANIAN_IDLE_MS == 60_000
    assert (options["interface"], options["factory"], options["loop"]) == ("asgi", True, "uvloop")


def test_granian_trusts_forwarded_headers_from_where_uvicorn_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert trusted_forwarders() == "127.0.0.1"  # uvicorn's default
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1,10.0.0.2")
    assert trusted_forwarders() == "10.0.0.1,10.0.0.2"
