"""The Dockerfile and compose.yaml cannot be run here (no Docker); what can be checked is: every
file the Dockerfile copies exists, it runs as a non-root user with the web app built apart, and
compose wires two workers to one database, one Redis, one signing key and one files volume,
behind a proxy that streams."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from switchboard.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WORKERS = ("switchboard-1", "switchboard-2")


def instructions() -> list[tuple[str, list[str]]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split()[0].upper(), shlex.split(line)[1:]) for line in lines]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_every_dockerfile_copy_source_exists() -> None:
    copies = [args for op, args in instructions() if op == "COPY" and not args[0].startswith("--from=")]
    assert copies
    for args in copies:
        for source in args[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"


def test_the_image_is_slim_non_root_and_builds_the_web_app_apart() -> None:
    steps = instructions()
    stages = [args for op, args in steps if op == "FROM"]
    assert stages[0][0].startswith("node:") and stages[-1][0].startswith("python:") and "slim" in stages[-1][0]
    assert [op for op, _ in steps if op in ("USER", "CMD")][-2:] == ["USER", "CMD"]
    assert next(args for op, args in reversed(steps) if op == "USER")[0] not in ("root", "0")
    assert ["--from=web", "/build/web/dist", "/app/web/dist"] in [args for op, args in steps if op == "COPY"]
    assert any("uv sync --frozen" in " ".join(args) for op, args in steps if op == "RUN")


def test_compose_runs_two_workers_on_shared_services() -> None:
    services = compose()["services"]
    assert set(services) >= {"postgres", "redis", "caddy", *WORKERS}
    envs = [services[name]["environment"] for name in WORKERS]
    assert envs[0] == envs[1]  # same database, Redis and signing key
    env = envs[0]
    assert "@postgres:5432/" in env["SWITCHBOARD_DATABASE_URL"] and env["SWITCHBOARD_REDIS_URL"].startswith(
        "redis://redis:")
    assert env["SWITCHBOARD_SECRET_KEY"].startswith("${SWITCHBOARD_SECRET_KEY:?")  # required, never a default
    assert all(services[name]["volumes"] == ["files:/data/files"] for name in WORKERS)
    assert "files" in compose()["volumes"]
    for name in WORKERS:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(services["caddy"]["depends_on"]) == set(WORKERS)


def test_compose_environment_is_settings_switchboard_knows() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in compose()["services"][WORKERS[0]]["environment"]:
        assert name.removeprefix("SWITCHBOARD_") in fields, name


def test_the_proxy_config_exists_streams_and_reaches_both_workers() -> None:
    [mount] = compose()["services"]["caddy"]["volumes"]
    caddyfile = ROOT / mount.split(":")[0]
    text = caddyfile.read_text()
    assert re.search(r"flush_interval\s+-1", text)  # SSE unbuffered
    assert all(f"{name}:8080" in text for name in WORKERS) and "health_uri /readyz" in text
