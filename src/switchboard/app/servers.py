"""The two HTTP servers `switchboard serve` can run the app on: uvicorn (the default) and granian
(a Rust HTTP server: parsing, keep-alive and response writing happen outside the Python event
loop). Both get the same address, workers, logging configuration and credential filters,
keep-alive, and X-Forwarded-For honoured from the addresses in
$FORWARDED_ALLOW_IPS (127.0.0.1 unless set), so a reverse proxy's client address reaches the
per-address login limits either way.

What differs: granian always runs the app in child processes (also with one worker), so the
process `serve` starts is a supervisor; it keeps idle connections open at most 60 s (its header
read timeout, which also ends idle keep-alive connections, tops out there) where uvicorn keeps
them 75 s; it always sends `server: granian` (it has no switch for that); and its access log
is off (it has none in uvicorn's format, whose fields the JSON log lines carry)."""

from __future__ import annotations

import os
from typing import Any, Literal

from switchboard.app.logs import logging_config
from switchboard.config.settings import Settings

ServerName = Literal["uvicorn", "granian"]
SERVERS: tuple[ServerName, ...] = ("uvicorn", "granian")
APP_FACTORY = "switchboard.app.main:app_from_environment"
GRANIAN_APP_FACTORY = "switchboard.app.main:granian_app_from_environment"
# granian's HTTP/1 header read timeout also closes idle keep-alive connections; 60 s is its maximum
GRANIAN_IDLE_MS = 60_000


def trusted_forwarders() -> str:
    """Who may say, in X-Forwarded-For, which client a request came from (uvicorn's own rule)."""
    return os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings for `serve`. The access log is switched off where its level would drop
    every line anyway: uvicorn formats each line's arguments before the logger looks at the level.
    No `server: uvicorn` header: it costs bytes on every response and tells scanners what runs here.
    Idle connections stay open 75 s (uvicorn's default is 5 s): SDK clients pause longer than that
    between calls, and a load balancer in front (60 s idle on the common ones) must never reuse a
    connection the server has just closed, which its clients would see as a 502. Every log line
    passes the credential filter (app/logs.py): keys in query strings never reach the log.
    httptools' protocol writes a whole response's headers and body in one write (app/coalescing.py)."""
    from switchboard.app.coalescing import CoalescingHttpToolsProtocol

    level = settings.log_level.lower()
    return {"log_level": level, "access_log": level in ("trace", "debug", "info"), "server_header": False,
            "timeout_keep_alive": 75, "loop": "uvloop", "http": CoalescingHttpToolsProtocol,
            "log_config": logging_config(level, settings.log_format)}


def run_uvicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    if workers > 1:
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, **server_options(settings))
        return
    from switchboard.app.asgi import create_app

    uvicorn.run(create_app(settings, freeze_heap=True), host=host, port=port, **server_options(settings))


def granian_options(settings: Settings) -> dict[str, Any]:
    """granian's settings for `serve`: uvicorn's logging configuration (granian's own loggers
    write through its root handler, filters included), uvloop, keep-alive as long as granian allows."""
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    level = settings.log_level.lower()
    granian_level = level if level in ("critical", "error", "warning", "info", "debug") else "debug"
    return {"interface": Interfaces.ASGI, "factory": True, "loop": Loops.uvloop, "http": HTTPModes.http1,
            "http1_settings": HTTP1Settings(keep_alive=True, header_read_timeout=GRANIAN_IDLE_MS),
            "log_enabled": True, "log_level": LogLevels(granian_level), "log_access": False,
            "log_dictconfig": logging_config(level, settings.log_format)}


def run_granian(settings: Settings, host: str, port: int, workers: int) -> None:
    from granian.server import Server

    Server(GRANIAN_APP_FACTORY, address=host, port=port, workers=workers, **granian_options(settings)).serve()
