"""A stored plain turn in process: the app's ASGI callable driven directly (no HTTP server, no
client sockets), the fake upstream in a process of its own, SQLite in a temporary directory.
Prints the process's CPU per turn at 1 and at 16 turns at a time, the c1 CPU by thread (from
/proc: the event loop's thread and SQLite's writer), and, for 16 streams started at once, the time
to each one's first text event (the upstream sends it at +10 ms).

    python -m bench.turn_inproc [--turns 1500] [--rounds 3]

To compare two builds, run it from each tree with PYTHONPATH=<tree>/src, alternated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import orjson

from bench.harness import free_port, write_config
from switchboard.app.asgi import create_app
from switchboard.config.loader import load_settings

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: App, path: str, body: object, token: str | None, first_text: list[float] | None = None
               ) -> tuple[int, bytes]:
    """One POST through the app; `first_text` gets the time the first text event was sent."""
    raw = orjson.dumps(body)
    headers = [(b"host", b"bench"), (b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    done, sent, status, chunks = asyncio.Event(), False, 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            return
        data = message.get("body", b"")
        if first_text is not None and not first_text and b"event: text" in data:
            first_text.append(time.perf_counter())
        chunks.append(data)
        if not message.get("more_body"):
            done.set()

    await app(scope, receive, send)
    return status, b"".join(chunks)


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each of this process's threads, by Python thread name."""
    names = {str(t.native_id): t.name for t in threading.enumerate()}
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[names.get(tid, tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return out


async def user_with_conversations(app: App, conversations: int) -> tuple[str, list[str]]:
    """A registered user's bearer token and the ids of that many new conversations of theirs."""
    credentials = {"username": "bench", "password": "bench-password-123"}
    await call(app, "/api/auth/register", credentials, None)
    token = orjson.loads((await call(app, "/api/auth/login", credentials, None))[1])["data"]["access_token"]
    ids = []
    for _ in range(conversations):
        _, body = await call(app, "/api/conversations", {"title": "bench", "tools_enabled": False}, token)
        ids.append(orjson.loads(body)["data"]["id"])
    return token, ids


async def measure(app: App, turns: int, rounds: int) -> None:
    token, conversations = await user_with_conversations(app, 400)
    count = 0

    async def turn(path: str = "/api/messages/", model: str = "bench-20", first: list[float] | None = None) -> None:
        nonlocal count
        conversation, count = conversations[(count // 10) % len(conversations)], count + 1  # as bench/load.py
        status, body = await call(app, path, {"conversation_id": conversation, "content": "hello there",
                                              "model": model, "tools_enabled": False}, token, first)
        if status != 200:
            raise RuntimeError(f"turn failed ({status}): {body[:300]!r}")

    for _ in range(200):  # warm: statement caches, threads, the history cache
        await turn()
    for number in range(rounds):
        cpu, threads = time.process_time(), thread_cpu()
        for _ in range(turns):
            await turn()
        c1 = (time.process_time() - cpu) / turns * 1e3
        by_thread = {name: round((seconds - threads.get(name, 0.0)) / turns * 1e3, 2)
                     for name, seconds in thread_cpu().items() if seconds - threads.get(name, 0.0) > 0.00005 * turns}
        each, cpu = turns // 16, time.process_time()

        async def client(turns_each: int) -> None:
            for _ in range(turns_each):
                await turn()

        await asyncio.gather(*(client(each) for _ in range(16)))
        c16 = (time.process_time() - cpu) / (each * 16) * 1e3
        ttft = []
        for _ in range(4):
            firsts: list[list[float]] = [[] for _ in range(16)]
            start = time.perf_counter()
            await asyncio.gather(*(turn("/api/messages/stream", "bench-20-10ms", first) for first in firsts))
            ttft += [(first[0] - start) * 1e3 for first in firsts]
        print(f"round {number + 1}: plain c1 {c1:.3f} ms CPU/turn {by_thread}, c16 {c16:.3f}; "
              f"16 streams at once: first text p50 {statistics.median(ttft):.1f} ms "
              f"(first {min(ttft):.1f}, last {max(ttft):.1f})", flush=True)


@contextlib.asynccontextmanager
async def app_in_process(models: list[str]) -> AsyncIterator[App]:
    """The app with its lifespan started, on SQLite in a temporary directory, in front of the fake
    upstream (in a process of its own) serving these models."""
    port = free_port()
    upstream = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.fake_upstream", "--port", str(port))
    try:
        with tempfile.TemporaryDirectory(prefix="switchboard-inproc-") as tmp:
            await asyncio.sleep(1.0)  # the upstream starting
            app = create_app(load_settings(write_config(Path(tmp), f"http://127.0.0.1:{port}", models)))
            async with app.router.lifespan_context(app):
                yield app
    finally:
        upstream.terminate()
        await upstream.wait()


def run(job: Coroutine[Any, Any, None]) -> None:
    """A bench's main coroutine on uvloop, as `switchboard serve` runs the app, errors-only logging."""
    logging.basicConfig(level=logging.ERROR)
    import uvloop

    uvloop.install()
    asyncio.run(job)


async def main(turns: int, rounds: int) -> None:
    async with app_in_process(["bench-20", "bench-20-10ms"]) as app:
        await measure(app, turns, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run(main(args.turns, args.rounds))
