"""Running untrusted Python in a child process with hard limits.

The child starts from a tiny bootstrap that lowers its own resource limits (soft and hard, so the
code cannot raise them again) and then execs a fresh isolated interpreter on the user's script.
Doing it in the child instead of `preexec_fn` keeps us clear of fork-with-threads hazards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Runs as `python -I -S -c BOOTSTRAP RLIMIT_AS=... RLIMIT_CPU=...`; the script is main.py in the cwd.
_BOOTSTRAP = """
import os, resource, sys
for pair in sys.argv[1:]:
    name, value = pair.split("=")
    resource.setrlimit(getattr(resource, name), (int(value), int(value)))
os.execv(sys.executable, [sys.executable, "-I", "-S", "-X", "utf8", "main.py"])
"""
_SCRIPT_NAME = "main.py"


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    timeout_s: float = 10.0  # wall clock; the whole process group is killed after it
    memory_bytes: int = 256 * 1024 * 1024  # address space (RLIMIT_AS)
    file_size_bytes: int = 16 * 1024 * 1024  # largest file the code may write (RLIMIT_FSIZE)
    open_files: int = 64
    output_bytes: int = 64 * 1024  # kept per stream; the rest is read and dropped
    python_executable: str = sys.executable


@dataclass(frozen=True, slots=True)
class RunResult:
    exit_code: int | None  # negative: killed by that signal
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    timed_out: bool
    duration_s: float

    @property
    def failed(self) -> bool:
        return self.timed_out or self.exit_code != 0


class _Capture:
    """Collects one pipe up to a cap and keeps draining, so a chatty child never blocks on a full
    pipe and what it printed before a timeout is still there."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            room = self.cap - len(self.data)
            if room > 0:
                self.data += chunk[:room]
            if len(chunk) > room:
                self.truncated = True

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def _clean_environment(scratch: str) -> dict[str, str]:
    # Built from nothing on purpose: the server's environment holds API keys and database URLs.
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": scratch,
        "TMPDIR": scratch,
    }


def _rlimit_arguments(limits: SandboxLimits) -> list[str]:
    cpu_seconds = int(limits.timeout_s) + 1
    return [
        f"RLIMIT_AS={limits.memory_bytes}",
        f"RLIMIT_CPU={cpu_seconds}",
        f"RLIMIT_FSIZE={limits.file_size_bytes}",
        f"RLIMIT_NOFILE={limits.open_files}",
        "RLIMIT_CORE=0",
    ]


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def run_python(code: str, limits: SandboxLimits) -> RunResult:
    scratch = tempfile.mkdtemp(prefix="switchboard-run-")
    started = time.monotonic()
    try:
        await asyncio.to_thread(Path(scratch, _SCRIPT_NAME).write_text, code, encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            limits.python_executable,
            "-I",
            "-S",
            "-c",
            _BOOTSTRAP,
            *_rlimit_arguments(limits),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=scratch,
            env=_clean_environment(scratch),
            start_new_session=True,  # its own process group, so one killpg ends its children too
        )
        return await _supervise(process, limits, started)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def _exited(process: asyncio.subprocess.Process) -> None:
    """Waits for the script itself to end. Not `process.wait()`: on Python 3.11 that also waits for
    the pipes to close, which a background child holding stdout would delay until the time limit."""
    pause = 0.005
    while process.returncode is None:
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


async def _supervise(process: asyncio.subprocess.Process, limits: SandboxLimits, started: float) -> RunResult:
    assert process.stdout is not None and process.stderr is not None
    out, err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
    readers = [asyncio.ensure_future(out.drain(process.stdout)), asyncio.ensure_future(err.drain(process.stderr))]
    timed_out = False
    try:
        try:
            async with asyncio.timeout(limits.timeout_s):
                await _exited(process)
        except TimeoutError:
            timed_out = True
    finally:
        # Always, even on success or cancellation: background children of the code die with it.
        _kill_group(process.pid)
        await process.wait()
        # The pipes close once every holder is dead; don't wait forever on an escaped grandchild.
        _done, pending = await asyncio.wait(readers, timeout=1.0)
        for reader in pending:
            reader.cancel()
    return RunResult(
        exit_code=process.returncode,
        stdout=out.text(),
        stderr=err.text(),
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
        timed_out=timed_out,
        duration_s=round(time.monotonic() - started, 3),
    )
