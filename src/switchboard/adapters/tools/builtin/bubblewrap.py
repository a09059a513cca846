"""The isolation layer of run_python: a bubblewrap (`bwrap`) sandbox per run.

Each run gets its own namespaces (user, mount, pid, network, ipc, uts, cgroup) and sees a read-only
root holding only /usr, the /bin and /lib links and the interpreter's own files, plus private,
size-limited tmpfs at /tmp (its working directory) and /dev/shm: nothing else is writable. Inside it
is uid/gid 65534 with no capabilities, may not make further user namespaces, and has no network but
its own loopback. bwrap's init is pid 1 of the run's pid namespace, so when that ends (the script
ended, or the supervisor killed bwrap) the kernel kills every process the script started, `setsid`
or double fork or not.

A server running as root starts bwrap as an unprivileged host user (nobody) instead, through
util-linux's `setpriv`: in a user namespace made by root the sandbox's processes would still be root
to the kernel, which exempts them from RLIMIT_NPROC (a fork bomb would run free, checked by hand) and
lets them read root's 0600 files in the mounted paths. As nobody they own nothing on the host. (Not
subprocess's `user=`: uvloop, the server's event loop, does not take it.)
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SANDBOX_UID = 65534  # nobody/nogroup, inside the sandbox and (for a root server) outside it too
SCRATCH = "/tmp"  # the tmpfs that is the script's working directory, home and temp dir
SCRIPT = "main.py"  # the script's file name in SCRATCH
# The system's interpreter first: it lives under /usr, which every sandbox mounts anyway, and a root
# server's sandbox runs as nobody, who cannot reach one under /root (pyenv, uv's managed Pythons).
SYSTEM_PYTHON = "/usr/bin/python3"
# The top-level directories an interpreter may need, besides /usr; on merged-/usr systems they are
# links into /usr and are recreated as links, not mounted.
_TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_MOUNTED = ("/usr", *_TOP_LEVEL)
# Built from nothing on purpose: the server's environment holds API keys and database URLs.
ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": SCRATCH,
    "TMPDIR": SCRATCH,
}


class SandboxUnavailable(Exception):
    """No working isolation layer: the message says why, for the operator and the tools listing."""


@dataclass(frozen=True, slots=True)
class Bubblewrap:
    """How to start one command in a fresh sandbox."""

    executable: str  # bwrap, an absolute path
    python: str  # the interpreter inside the sandbox, its real path (not a virtualenv's link)
    root: tuple[str, ...]  # bwrap's options that build the read-only root
    # what starts bwrap as nobody when the server is root (setpriv ... --); empty: as the server's user
    launcher: tuple[str, ...] = ()

    def command(self, script_fd: int, scratch_bytes: int, argv: Sequence[str]) -> list[str]:
        """bwrap's command line that copies the script from `script_fd` into the scratch directory
        and runs `python *argv` there."""
        uid = str(SANDBOX_UID)
        return [
            *self.launcher,
            self.executable,
            "--unshare-all", "--unshare-user", "--disable-userns",  # -user is explicit: fail, never skip it
            "--uid", uid, "--gid", uid,
            "--cap-drop", "ALL",
            "--die-with-parent",  # the server gone (even SIGKILLed): the sandbox goes too
            "--new-session",  # no controlling terminal to push keystrokes into (TIOCSTI)
            "--hostname", "sandbox",
            *self.root,
            "--proc", "/proc",  # the run's own pid namespace: it sees its own processes only
            "--dev", "/dev",  # null, zero, random, tty, pts
            "--size", str(scratch_bytes), "--tmpfs", SCRATCH,
            "--perms", "0644", "--file", str(script_fd), f"{SCRATCH}/{SCRIPT}",
            # POSIX shared memory (multiprocessing's locks), a quarter of the scratch size
            "--size", str(scratch_bytes // 4), "--tmpfs", "/dev/shm",
            # bwrap's own root and /dev are tmpfs the sandbox user owns, with no size limit: the
            # code could fill the host's memory there. Only /tmp and /dev/shm stay writable.
            "--remount-ro", "/dev", "--remount-ro", "/",
            "--chdir", SCRATCH,
            "--", self.python, *argv,
        ]  # fmt: skip

def locate(bwrap: str = "bwrap", python: str | None = None) -> Bubblewrap:
    """The sandbox this machine offers, or SandboxUnavailable saying what is missing. Whether it
    really works is for a self-test run to show (sandbox.PythonSandbox.check)."""
    executable = shutil.which(bwrap)
    if executable is None:
        raise SandboxUnavailable(
            f"bubblewrap was not found at {bwrap!r}; install the `bubblewrap` package (Debian, Ubuntu, Fedora)"
        )
    chosen = python or (SYSTEM_PYTHON if os.access(SYSTEM_PYTHON, os.X_OK) else sys.executable)
    interpreter = Path(os.path.realpath(chosen))
    usable = os.access(interpreter, os.X_OK) and interpreter.is_file()
    if not usable or (not _inside(interpreter, _MOUNTED) and len(interpreter.parents) < 3):
        raise SandboxUnavailable(f"no Python interpreter for the sandbox at {chosen!r}")
    return Bubblewrap(
        executable=os.path.realpath(executable), python=str(interpreter), root=_root(interpreter), launcher=_launcher()
    )


def _root(python: Path) -> tuple[str, ...]:
    mounts = ["--ro-bind", "/usr", "/usr"]
    for top in _TOP_LEVEL:
        path = Path(top)
        if path.is_symlink():
            mounts += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            mounts += ["--ro-bind", top, top]
    if not _inside(python, _MOUNTED):
        # An interpreter installed elsewhere (pyenv, uv, /opt): only its binary and its lib
        # directory (stdlib, libpython), where it finds its prefix; not the rest of that tree.
        lib = python.parents[1] / "lib"
        mounts += ["--ro-bind", str(python), str(python), "--ro-bind", str(lib), str(lib)]
    return tuple(mounts)


def _launcher() -> tuple[str, ...]:
    if os.geteuid() != 0:
        return ()  # bwrap runs as the server's own unprivileged user
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise SandboxUnavailable("a server running as root needs setpriv (package util-linux) to sandbox code")
    uid = str(SANDBOX_UID)
    return (setpriv, "--reuid", uid, "--regid", uid, "--clear-groups", "--")


def _inside(path: Path, roots: Sequence[str]) -> bool:
    return any(path.is_relative_to(root) for root in roots)
