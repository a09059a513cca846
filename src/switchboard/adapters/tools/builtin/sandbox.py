"""Running untrusted Python in the bubblewrap sandbox (bubblewrap.py), with hard limits.

Inside the sandbox a tiny bootstrap lowers the resource limits (soft and hard, so the code cannot
raise them again) and then execs a fresh isolated interpreter on the user's script. Doing it in the
child instead of `preexec_fn` keeps us clear of fork-with-threads hazards. The wall-clock limit kills
bwrap, and with it the run's whole pid namespace.

PythonSandbox is off until a self-test ran a script isolated: there is no unsandboxed fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, replace

from switchboard.adapters.tools.builtin.bubblewrap import (
    ENVIRONMENT,
    SANDBOX_UID,
    SCRIPT,
    Bubblewrap,
    SandboxUnavailable,
    locate,
)

# Runs as `python -I -S -c BOOTSTRAP RLIMIT_AS=... RLIMIT_CPU=...`; the script is main.py in the cwd.
_BOOTSTRAP = f"""
import os, resource, sys
for pair in sys.argv[1:]:
    name, value = pair.split("=")
    resource.setrlimit(getattr(resource, name), (int(value), int(value)))
os.execv(sys.executable, [sys.executable, "-I", "-S", "-X", "utf8", {SCRIPT!r}])
"""
# What a working sandbox prints for this: its own uid, and no network device but its loopback.
_SELF_TEST = "import os, socket\nprint(os.getuid(), *sorted(name for _, name in socket.if_nameindex()))"
_SELF_TEST_EXPECTED = f"{SANDBOX_UID} lo"
_NOT_CHECKED = "the sandbox has not been checked yet (the server checks it at start-up)"


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    timeout_s: float = 10.0  # wall clock; the run's whole pid namespace is killed after it
    memory_bytes: int = 256 * 1024 * 1024  # address space of each process (RLIMIT_AS)
    file_size_bytes: int = 16 * 1024 * 1024  # largest file the code may write (RLIMIT_FSIZE)
    open_files: int = 64
    # RLIMIT_NPROC: processes of the sandbox's uid, counted in the run's own user namespace (so one
    # run's children do not count against another's), bwrap's init and the interpreter included
    processes: int = 16
    scratch_bytes: int = 64 * 1024 * 1024  # the tmpfs working directory (host memory, not RLIMIT_AS)
    output_bytes: int = 64 * 1024  # kept per stream; the rest is read and dropped


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


class PythonSandbox:
    """run_python's runner. `unavailable` says why it is off (None: on); `check()` turns it on when
    bubblewrap is there and a self-test script ran isolated in it."""

    def __init__(self, limits: SandboxLimits | None = None, bwrap: str = "bwrap", python: str | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._bwrap_path = bwrap
        self._python = python
        self._bubblewrap: Bubblewrap | None = None
        self.unavailable: str | None = _NOT_CHECKED

    async def check(self) -> str | None:
        """Looks for bubblewrap and runs the self-test; returns why the sandbox is off, or None."""
        self._bubblewrap = None
        try:
            bubblewrap = await asyncio.to_thread(locate, self._bwrap_path, self._python)
        except SandboxUnavailable as exc:
            self.unavailable = str(exc)
            return self.unavailable
        # At least 10 s: a busy machine should not switch the tool off for being slow once.
        limits = replace(self.limits, timeout_s=max(self.limits.timeout_s, 10.0))
        result = await run_python(_SELF_TEST, limits, bubblewrap)
        if result.failed or result.stdout.strip() != _SELF_TEST_EXPECTED:
            said = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
            self.unavailable = f"the bubblewrap sandbox failed its self-test ({_describe(result)}: {said})"
            return self.unavailable
        self._bubblewrap, self.unavailable = bubblewrap, None
        return None

    @property
    def bubblewrap(self) -> Bubblewrap | None:
        return self._bubblewrap

    async def run(self, code: str, timeout_s: float | None = None) -> RunResult:
        """Runs `code` with the limits (and at most `timeout_s`); SandboxUnavailable when off."""
        if self._bubblewrap is None:
            raise SandboxUnavailable(self.unavailable or _NOT_CHECKED)
        limits = self.limits if timeout_s is None else replace(self.limits, timeout_s=timeout_s)
        return await run_python(code, limits, self._bubblewrap)


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


def _rlimit_arguments(limits: SandboxLimits) -> list[str]:
    cpu_seconds = int(limits.timeout_s) + 1
    return [
        f"RLIMIT_AS={limits.memory_bytes}",
        f"RLIMIT_CPU={cpu_seconds}",
        f"RLIMIT_FSIZE={limits.file_size_bytes}",
        f"RLIMIT_NOFILE={limits.open_files}",
        f"RLIMIT_NPROC={limits.processes}",
        "RLIMIT_CORE=0",
    ]


async def run_python(code: str, limits: SandboxLimits, sandbox: Bubblewrap) -> RunResult:
    """Runs `code` as a script in a fresh sandbox. The script goes in through a memory file, so
    nothing of the run is ever written to the host's disk."""
    started = time.monotonic()
    script = os.memfd_create(SCRIPT)
    try:
        data = memoryview(code.encode("utf-8"))
        while data:  # a memory file: no disk behind these writes, nothing to wait for
            data = data[os.write(script, data) :]
        os.lseek(script, 0, os.SEEK_SET)
        argv = ["-I", "-S", "-c", _BOOTSTRAP, *_rlimit_arguments(limits)]
        process = await asyncio.create_subprocess_exec(
            *sandbox.command(script, limits.scratch_bytes, argv),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=ENVIRONMENT,
            pass_fds=(script,),
            start_new_session=True,  # its own process group, so one killpg ends bwrap and its helpers
        )
    finally:
        os.close(script)  # bwrap holds its own copy until it has copied the script in
    return await _supervise(process, limits, started)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _exited(process: asyncio.subprocess.Process) -> None:
    """Waits for bwrap itself to end. Not `process.wait()`: on Python 3.11 that also waits for the
    pipes to close."""
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
        # Always, even on success or cancellation. bwrap's death ends the sandbox's pid 1
        # (--die-with-parent), and the kernel then kills everything left in the pid namespace.
        _kill_group(process.pid)
        await process.wait()
        _done, pending = await asyncio.wait(readers, timeout=1.0)
        for reader in pending:
            reader.cancel()
    return RunResult(
        exit_code=_exit_code(process.returncode),
        stdout=out.text(),
        stderr=err.text(),
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
        timed_out=timed_out,
        duration_s=round(time.monotonic() - started, 3),
    )


def _exit_code(returncode: int | None) -> int | None:
    """bwrap reports a script killed by signal N as exit code 128 + N, as shells do; we report -N,
    as subprocess does. (A script that itself exits with 129..192 reads as killed: a fair price.)"""
    if returncode is not None and 128 < returncode <= 128 + 64:
        return 128 - returncode
    return returncode


def _describe(result: RunResult) -> str:
    if result.timed_out:
        return "timed out"
    return f"exit code {result.exit_code}"
