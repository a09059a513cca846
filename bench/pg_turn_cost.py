"""PostgreSQL's own share of a stored plain turn: the server's CPU per turn and where it goes.

    python -m bench.pg_turn_cost [--seconds 6] [--concurrency 16] [--top 25]

Runs the bench stack on a fresh PostgreSQL database with pg_stat_statements (the extension is
preloaded on the bench server; CREATE EXTENSION in the database), drives native plain turns and
prints: the CPU (utime + stime from /proc) of the backends serving that database per turn next to
Switchboard's own, and pg_stat_statements for the database, per turn (BEGIN and COMMIT included:
the server counts each round trip as a statement). Only this database's backends and statements
are counted; other sessions' work on the same server is left out (the WAL writer's too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from bench.harness import POSTGRES_ADMIN_DSN, fresh_database, running_stack
from bench.load import Load, NativeTarget

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _backends(database: str) -> dict[int, float]:
    """The CPU seconds of each backend serving `database` now (its process title names it)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                found[int(entry)] = _cpu(int(entry))
    return found


async def _watch(database: str, seen: dict[int, float], stop: asyncio.Event) -> None:
    """Every 50 ms, each backend's CPU so far: a connection the pool closes mid-run still counts
    (up to its last 50 ms), and one opened mid-run counts whole (its start-up is the server's too)."""
    while not stop.is_set():
        seen.update(_backends(database))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)


@contextlib.asynccontextmanager
async def _admin(database: str) -> AsyncIterator[asyncpg.Connection]:
    server = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    connection = await asyncpg.connect(f"{server}/{database}")
    try:
        yield connection
    finally:
        await connection.close()


async def _perf(out: str, pids: list[int]) -> asyncio.subprocess.Process:
    """`perf record` on the backends (root, or perf_event_paranoid <= 1): read it with `perf report -i`."""
    return await asyncio.create_subprocess_exec(
        "perf", "record", "-F", "999", "-g", "-o", out, "-p", ",".join(map(str, pids)),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def measure(seconds: float, concurrency: int, top: int, perf: str | None) -> None:
    async with fresh_database() as url:
        database = url.rsplit("/", 1)[1]
        async with _admin(database) as admin:
            await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            dbid = await admin.fetchval("SELECT oid FROM pg_database WHERE datname = $1", database)
            async with running_stack(["bench-20"], database_url=url) as stack:
                target = NativeTarget("switchboard-native", stack.switchboard.url, stack.token)
                load = Load(target, "plain", "bench-20", concurrency)
                await load.open(40000, concurrency * 4, seconds)
                admin_pid = await admin.fetchval("SELECT pg_backend_pid()")
                await admin.execute("SELECT pg_stat_statements_reset(0, $1, 0)", dbid)
                before = _backends(database)
                sb_before = stack.switchboard.cpu_seconds()
                recorder = await _perf(perf, [p for p in before if p != admin_pid]) if perf else None
                after, stop = dict(before), asyncio.Event()
                watcher = asyncio.create_task(_watch(database, after, stop))
                await load.drive(40000, seconds)
                stop.set()
                await watcher
                if recorder is not None:
                    recorder.send_signal(signal.SIGINT)
                    await recorder.wait()
                sb_cpu = stack.switchboard.cpu_seconds() - sb_before
                rows = await admin.fetch(
                    "SELECT query, calls, rows, total_exec_time, total_plan_time, plans, shared_blks_hit,"
                    " shared_blks_read, shared_blks_dirtied, wal_records, wal_bytes"
                    " FROM pg_stat_statements WHERE dbid = $1 ORDER BY total_exec_time DESC", dbid)
                await load.close()
        result = load.result()
        turns = result.requests
        server_cpu = sum(after[pid] - before.get(pid, 0.0) for pid in after if pid != admin_pid)
        print(f"{turns} turns in {result.seconds:.1f} s ({result.rps:.0f}/s, {result.errors} errors);"
              f" backends {len(before) - 1} before, {len(after) - len(before)} started during it")
        print(f"server CPU (this database's backends) {server_cpu * 1000 / turns:.3f} ms/turn"
              f" ({server_cpu / result.seconds:.2f} core); switchboard {sb_cpu * 1000 / turns:.3f} ms/turn")
        total_exec = sum(r["total_exec_time"] for r in rows)
        calls = sum(r["calls"] for r in rows)
        print(f"statements {calls / turns:.2f}/turn, exec {total_exec / turns:.3f} ms/turn,"
              f" plan {sum(r['total_plan_time'] for r in rows) / turns:.3f} ms/turn,"
              f" WAL {sum(r['wal_bytes'] for r in rows) / turns:.0f} B/turn"
              f" in {sum(r['wal_records'] for r in rows) / turns:.1f} records")
        print(f"{'calls/turn':>10} {'exec ms/turn':>12} {'ms/call':>8} {'rows/call':>9} {'plans':>6}"
              f" {'blks hit/call':>13} {'dirtied':>7} {'WAL B/call':>10}  statement")
        for r in rows[:top]:
            n = r["calls"] or 1
            query = " ".join(r["query"].split())
            print(f"{r['calls'] / turns:10.2f} {r['total_exec_time'] / turns:12.4f} {r['total_exec_time'] / n:8.4f}"
                  f" {r['rows'] / n:9.2f} {r['plans']:6d} {r['shared_blks_hit'] / n:13.1f}"
                  f" {r['shared_blks_dirtied']:7d} {int(r['wal_bytes']) / n:10.0f}  {query[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--perf", default=None, metavar="FILE", help="perf record the backends into FILE")
    args = parser.parse_args()
    import uvloop

    uvloop.run(measure(args.seconds, args.concurrency, args.top, args.perf))


if __name__ == "__main__":
    main()
