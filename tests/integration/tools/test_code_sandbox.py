"""What run_python's bubblewrap sandbox keeps out, attack by attack, with the real bwrap: the
server's files (signing secret, database, source), writes outside the scratch directory, the host's
loopback services, processes that outlive the run, a fork bomb, a huge allocation, runaway loops,
and (without bubblewrap) running at all."""

from __future__ import annotations

import ast
import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import uvloop

import switchboard
from switchboard.adapters.tools.builtin.bubblewrap import SANDBOX_UID
from switchboard.adapters.tools.builtin.sandbox import SandboxLimits
from switchboard.adapters.tools.builtin_host import BuiltinToolHost
from switchboard.core.domain.tools import ToolContext, ToolOutcome

CTX = ToolContext(user_id=1)
SECRET = f"signing-secret-{uuid.uuid4().hex}"
DB_MARK = f"argon2-hash-{uuid.uuid4().hex}"
# what may be at the sandbox's root: /usr, the /bin and /lib links, and its own /proc, /dev, /tmp
MINIMAL_ROOT = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "proc", "dev", "tmp"}


@pytest.fixture
async def host() -> AsyncIterator[BuiltinToolHost]:
    host = BuiltinToolHost(sandbox_limits=SandboxLimits(timeout_s=5.0, processes=16))
    await host.start()
    assert host.spec("run_python").unavailable is None, host.spec("run_python").unavailable
    yield host
    await host.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A server data directory as the server keeps it: the signing secret (0600) and the database."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret.key").write_text(SECRET)
    (data / "secret.key").chmod(0o600)
    with sqlite3.connect(data / "switchboard.db") as db:
        db.execute("CREATE TABLE users (name TEXT, password_hash TEXT)")
        db.execute("INSERT INTO users VALUES ('admin', ?)", (DB_MARK,))
    db.close()
    return data


async def run(host: BuiltinToolHost, code: str, **extra: object) -> ToolOutcome:
    return await host.call("run_python", {"code": code, **extra}, CTX)


def host_processes_with(marker: str) -> list[int]:
    """Host pids whose command line holds `marker` (zombies have none, so they do not count)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def host_uids(pid: int) -> list[int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return [int(uid) for uid in next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]]


async def until(condition: Callable[[], bool], attempts: int = 200) -> bool:
    """Polls `condition` a while (the kernel tears a pid namespace down asynchronously)."""
    for _ in range(attempts):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def test_the_server_files_are_not_there_to_read(host, data_dir: Path) -> None:
    paths = [
        data_dir / "secret.key", data_dir / "switchboard.db", f"/proc/1/root{data_dir}/secret.key",
        f"/proc/self/root{data_dir}/secret.key", Path(switchboard.__file__), "/etc/shadow", "/etc/passwd",
    ]  # fmt: skip
    code = f"""
import os
for path in {[str(p) for p in paths]!r}:
    try:
        print(path, open(path, 'rb').read())
    except OSError as exc:
        print(path, type(exc).__name__)
print(sorted(os.listdir('/')))
"""
    outcome = await run(host, code)

    assert not outcome.is_error, outcome.content
    assert SECRET not in outcome.content and DB_MARK not in outcome.content
    *attempts, root = outcome.data["stdout"].splitlines()
    assert attempts == [f"{path} FileNotFoundError" for path in paths]
    assert set(ast.literal_eval(root)) <= MINIMAL_ROOT  # no /etc, /root, /home, /work, /var, data or source directory


async def test_nothing_outside_the_scratch_directory_can_be_written(host, tmp_path: Path) -> None:
    targets = [tmp_path / "escaped.txt", "/usr/escaped.txt", "/escaped.txt", "/dev/escaped.txt",
               "/proc/1/root/usr/escaped.txt"]
    code = f"""
for path in {[str(t) for t in targets]!r}:
    try:
        open(path, 'w').write('escaped')
        print(path, 'written')
    except OSError as exc:
        print(path, type(exc).__name__)
"""
    outcome = await run(host, code)

    assert "written" not in outcome.content, outcome.content
    assert len(outcome.data["stdout"].splitlines()) == len(targets)
    assert not any(map(os.path.lexists, [tmp_path / "escaped.txt", "/usr/escaped.txt"]))


async def test_the_host_loopback_and_every_other_network_are_out_of_reach(host) -> None:
    connections: list[int] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    code = f"""
import socket
print(socket.if_nameindex())
for address in [('127.0.0.1', {port}), ('1.1.1.1', 53), ('10.0.0.1', 80)]:
    try:
        socket.create_connection(address, timeout=2)
        print(address, 'connected')
    except OSError as exc:
        print(address, type(exc).__name__)
"""
    async with server:
        outcome = await run(host, code)

    assert "connected" not in outcome.content, outcome.content
    assert outcome.data["stdout"].startswith("[(1, 'lo')]\n")  # its own loopback, nothing else
    assert connections == []


async def test_the_code_runs_unprivileged_as_nobody_even_for_a_root_server(host) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    code = f"""
import os, sys
status = dict(line.split(':', 1) for line in open('/proc/self/status'))
print(os.getuid(), os.getgid(), os.getgroups(), status['CapEff'].strip(), status['NoNewPrivs'].strip())
sys.stdout.flush()
os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', {marker!r}])
"""
    running = asyncio.ensure_future(run(host, code))
    assert await until(lambda: bool(host_processes_with(marker))), "the script never started"
    (pid,) = host_processes_with(marker)
    uids = host_uids(pid)
    running.cancel()  # a cancelled call still kills the sandbox
    with pytest.raises(asyncio.CancelledError):
        await running

    # to the host kernel the code is nobody when the server is root (root's user namespace would
    # keep it root: exempt from the process limit, owner of root's files)
    expected = SANDBOX_UID if os.geteuid() == 0 else os.geteuid()
    assert uids == [expected] * 4  # real, effective, saved, filesystem
    assert await until(lambda: not host_processes_with(marker)), "the sandbox outlived its cancelled call"


async def test_no_process_outlives_the_run_not_even_a_setsid_double_fork(host) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    code = f"""
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', {marker!r}])
    os._exit(0)
def escaped_child_running():
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            if {marker!r}.encode() in open(f'/proc/{{pid}}/cmdline', 'rb').read():
                return True
        except OSError:
            pass
for _ in range(200):
    if escaped_child_running():
        print('escaped child running')
        break
    time.sleep(0.02)
"""
    outcome = await run(host, code)

    assert not outcome.is_error and outcome.data["stdout"] == "escaped child running\n", outcome.content
    assert await until(lambda: not host_processes_with(marker)), "the double-forked child outlived the run"


async def test_a_fork_bomb_hits_the_process_limit_and_dies_with_the_run(host) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    bomb = """
import os, time
forked = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        forked += 1
except OSError as exc:
    print('refused after', forked, exc.strerror)
"""
    code = f"import os, sys\nos.execv(sys.executable, [sys.executable, '-c', {bomb!r}, {marker!r}])"
    outcome = await run(host, code)

    refused = outcome.data["stdout"].split()
    assert refused[:2] == ["refused", "after"] and int(refused[2]) < 16, outcome.content
    assert await until(lambda: not host_processes_with(marker)), "the bomb's children outlived the run"


async def test_a_classic_fork_bomb_is_contained_and_killed_at_the_time_limit(host) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    code = f"import os, sys\nos.execv(sys.executable, [sys.executable, '-c', {bomb!r}, {marker!r}])"
    outcome = await run(host, code, timeout_seconds=1)

    assert outcome.is_error and outcome.data["timed_out"]
    assert await until(lambda: not host_processes_with(marker)), "the bomb outlived the run"


async def test_a_2_gb_allocation_fails_with_a_memory_error(host) -> None:
    outcome = await run(host, "block = bytearray(2 * 1024 ** 3)\nprint('allocated')")
    assert outcome.is_error and "MemoryError" in outcome.content and "allocated" not in outcome.content


async def test_a_scratch_directory_cannot_fill_the_host_memory(host) -> None:
    code = "chunk = b'0' * 2**20\nwith open('fill', 'wb') as f:\n    for _ in range(1024):\n        f.write(chunk)"
    outcome = await run(host, code)  # 1 GB into a 64 MB tmpfs, each file under the 16 MB file limit
    assert outcome.is_error and ("No space left on device" in outcome.content or "File too large" in outcome.content)


async def test_loops_in_several_processes_all_end_at_the_time_limit(host) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    spin = "import os\nfor _ in range(3):\n    os.fork()\nwhile True:\n    pass"
    code = f"import os, sys\nos.execv(sys.executable, [sys.executable, '-c', {spin!r}, {marker!r}])"
    outcome = await run(host, code, timeout_seconds=1)

    assert outcome.is_error and outcome.data["timed_out"] and "time limit of 1s exceeded" in outcome.content
    assert await until(lambda: not host_processes_with(marker)), "a looping process outlived the run"


async def test_without_bubblewrap_the_code_tool_is_off_and_says_why() -> None:
    host = BuiltinToolHost(bubblewrap="/nonexistent/bwrap")
    await host.start()

    spec = next(s for s in await host.specs() if s.name == "run_python")
    assert spec.unavailable is not None and "bubblewrap was not found at '/nonexistent/bwrap'" in spec.unavailable
    outcome = await run(host, "print('ran unsandboxed')")
    assert outcome.is_error and "ran unsandboxed" not in outcome.content
    assert outcome.content.startswith("run_python is unavailable: bubblewrap was not found")
    assert (await host.call("calculate", {"expression": "1+1"}, CTX)).content == "1+1 = 2"  # the rest work on
    await host.close()


async def test_before_its_check_the_code_tool_is_off() -> None:
    host = BuiltinToolHost()
    outcome = await run(host, "print('ran unchecked')")
    assert outcome.is_error and "has not been checked yet" in outcome.content
    await host.close()


def test_the_sandbox_starts_under_uvloop_the_servers_event_loop() -> None:
    async def check_and_run() -> ToolOutcome:
        host = BuiltinToolHost()
        try:
            await host.start()
            return await run(host, "print('ran under uvloop')")
        finally:
            await host.close()

    # uvloop's subprocesses take fewer options than asyncio's (no user=, group=): keep it working there
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        outcome = runner.run(check_and_run())
    assert not outcome.is_error and outcome.data["stdout"] == "ran under uvloop\n", outcome.content
