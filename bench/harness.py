"""The processes of one benchmark run, all on 127.0.0.1: the fake upstream, the do-nothing relay and
a real `switchboard serve` (temporary data directory, SQLite, a provider pointing at the fake
upstream, quotas on: the bench user gets a large but finite allowance, so every turn reserves and
settles). Each is its own process, so their CPU time and peak RSS can be read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import orjson
import yaml

from bench import litellm as bench_litellm

ROOT = Path(__file__).resolve().parent.parent
ALLOWANCE = 10**12  # finite, so reservation and settlement run on every turn
_TICKS = os.sysconf("SC_CLK_TCK")
SERVER = os.environ.get("BENCH_SERVER", "uvicorn")  # which HTTP server `switchboard serve` runs on
# where `fresh_database` creates and drops its databases (trust auth, as the tests' PostgreSQL)
POSTGRES_ADMIN_DSN = os.environ.get("BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far (from /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str

    @property
    def pid(self) -> int:
        return self.popen.pid

    def status_kb(self, field_name: str) -> int | None:
        """A memory figure from /proc/<pid>/status, e.g. VmHWM (peak RSS) or VmRSS, in KiB."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float:
        """CPU time used so far by the process and its live descendants: granian's supervisor
        runs the app in a child process, uvicorn's --workers in several."""
        return sum(cpu_seconds(pid) for pid in _with_descendants(self.pid))

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def _with_descendants(pid: int) -> list[int]:
    found, index = [pid], 0
    while index < len(found):
        try:
            children = Path(f"/proc/{found[index]}/task/{found[index]}/children").read_text().split()
        except OSError:
            children = []
        found.extend(int(child) for child in children)
        index += 1
    return found


@dataclass
class Stack:
    upstream: Process
    relay: Process
    switchboard: Process
    token: str = ""  # the bench user's JWT (native API)
    api_key: str = ""  # the bench user's API key (for /v1 gateway targets)
    workdir: Path = field(default_factory=Path)
    litellm: Process | None = None  # with BENCH_LITELLM (bench/litellm.py)

    @property
    def processes(self) -> list[Process]:
        return [self.upstream, self.relay, self.switchboard, *([self.litellm] if self.litellm else [])]


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") and k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **(extra or {})}


def _spawn(name: str, argv: Sequence[str], workdir: Path, url: str, env: dict[str, str] | None = None) -> Process:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=ROOT, env=_child_env(env))
    return Process(name, popen, log, url)


def switchboard_command() -> list[str]:
    script = Path(sys.executable).with_name("switchboard")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from switchboard.app.cli import main; sys.exit(main())"]


def write_config(workdir: Path, upstream_url: str, models: Sequence[str], database_url: str | None = None) -> Path:
    config = {
        "data_dir": str(workdir / "data"),
        "log_level": "warning",  # no access log line per request
        "registration": "open",
        "default_token_allowance": ALLOWANCE,
        "providers": [{"name": "bench", "base_url": upstream_url + "/v1", "api_key": "bench-upstream-key",
                       "models": list(models),
                       # as many upstream connections as the relay may open, for the 1,000-stream scenario
                       "max_connections": 1024}],
    }
    # else BENCH_DATABASE_URL, e.g. postgresql+asyncpg://postgres@127.0.0.1/bench; else SQLite in data_dir
    database_url = database_url or os.environ.get("BENCH_DATABASE_URL")
    if database_url:
        config["database_url"] = database_url
    if os.environ.get("BENCH_REDIS_URL"):  # needed by `serve --workers N` (bench/workers.py)
        config["redis_url"] = os.environ["BENCH_REDIS_URL"]
    path = workdir / "switchboard.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def wait_ready(process: Process, path: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited ({process.popen.returncode}):\n{process.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(process.url + path) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{process.name} was not ready within {seconds:g} s:\n{process.log_tail()}")


async def _call(session: aiohttp.ClientSession, method: str, url: str, body: object,
                token: str | None = None) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(method, url, json=body, headers=headers) as response:
        payload = orjson.loads(await response.read())
        if response.status >= 300:
            raise RuntimeError(f"{method} {url} failed ({response.status}): {payload}")
        return payload["data"]  # type: ignore[no-any-return]


async def enrol(stack: Stack) -> None:
    """Registers the bench user, logs in (JWT) and issues an API key."""
    base = stack.switchboard.url
    credentials = {"username": "bench", "password": "bench-password-123"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await _call(session, "POST", base + "/api/auth/register", credentials)
        login = await _call(session, "POST", base + "/api/auth/login", credentials)
        stack.token = str(login["access_token"])
        key = await _call(session, "POST", base + "/api/keys", {"name": "bench", "scopes": ["chat"]}, stack.token)
        stack.api_key = str(key["key"])


def _start_litellm(workdir: Path, upstream_url: str, models: Sequence[str]) -> Process | None:
    executable = bench_litellm.executable()
    if executable is None:
        return None
    port = free_port()
    return _spawn("litellm", bench_litellm.command(executable, workdir, upstream_url, models, port), workdir,
                  f"http://127.0.0.1:{port}", bench_litellm.environment())


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A throw-away PostgreSQL database for one run, as the SQLAlchemy URL `serve` takes; dropped
    after it (its connections ended first, so a server that did not close its pool cannot keep it)."""
    name = f"sb_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    server = POSTGRES_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+asyncpg://{server}/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def running_stack(
    models: Sequence[str], workers: int = 1, database_url: str | None = None,
) -> AsyncIterator[Stack]:
    """`workers` > 1: `serve --workers N` (PostgreSQL and Redis: `database_url` or BENCH_DATABASE_URL,
    and BENCH_REDIS_URL); the switchboard Process is then uvicorn's supervisor, so its CPU figures
    leave the workers out. Without `database_url` or BENCH_DATABASE_URL: SQLite in the temp dir."""
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as tmp:
        workdir = Path(tmp)
        processes: list[Process] = []
        try:
            up_port, relay_port, sb_port = free_port(), free_port(), free_port()
            upstream = _spawn("upstream", [sys.executable, "-m", "bench.fake_upstream", "--port", str(up_port)],
                              workdir, f"http://127.0.0.1:{up_port}")
            processes.append(upstream)
            relay = _spawn("relay", [sys.executable, "-m", "bench.relay", "--port", str(relay_port),
                                     "--upstream", upstream.url], workdir, f"http://127.0.0.1:{relay_port}")
            processes.append(relay)
            config = write_config(workdir, upstream.url, models, database_url)
            switchboard = _spawn("switchboard", [*switchboard_command(), "--config", str(config), "serve",
                                                 "--host", "127.0.0.1", "--port", str(sb_port), "--server", SERVER,
                                                 *(["--workers", str(workers)] if workers > 1 else [])],
                                 workdir, f"http://127.0.0.1:{sb_port}")
            processes.append(switchboard)
            litellm = _start_litellm(workdir, upstream.url, models)
            if litellm is not None:
                processes.append(litellm)
            await wait_ready(upstream, "/v1/models")
            await wait_ready(relay, "/v1/models")
            await wait_ready(switchboard, "/readyz")
            if litellm is not None:
                await wait_ready(litellm, bench_litellm.READY_PATH, seconds=120)
            stack = Stack(upstream, relay, switchboard, workdir=workdir, litellm=litellm)
            await enrol(stack)
            yield stack
        finally:
            for process in reversed(processes):
                process.stop()
