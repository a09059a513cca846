"""`switchboard serve` as a real process: the installed command, a free port, and the wait until
the process answers /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from pathlib import Path

import httpx

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until_ready(process: asyncio.subprocess.Process, base_url: str, *, attempts: int = 300) -> bool:
    """Polls /readyz every 0.1 s until it answers 200. False if the process exits first (the caller
    says why, from its log); after `attempts` polls the caller goes on and its first request tells."""
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as probe:
        for _ in range(attempts):
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get("/readyz")).status_code == 200:
                    return True
            if process.returncode is not None:
                return False
            await asyncio.sleep(0.1)
    return process.returncode is None
