"""Lease hand-over: how long after the holder is SIGKILLed (or stopped) another replica runs its work.

Each trial starts two processes on one store, each running the bot's ``LeaseKeeper`` for the ``agent``
lease with a work that prints the moment it starts. The store is a fresh SQLite file (WAL) per trial, or
a fresh database on a local PostgreSQL server (``store.postgres.local``: Debian's server, ``initdb`` in a
temporary directory, fsync on), cloned from a migrated template. Once the first holds the lease and the
second is trying, the holder is SIGKILLed at a random point of its renewal period; the figure is the
time from the kill to the second process's work starting (both read the same wall clock). The bound is
``ttl + ttl/3``: the lease lapses at most ``ttl`` after the last renewal, and the standby tries every
``ttl/3``. A clean stop (SIGTERM: the lease is released) is measured beside it. When PostgreSQL cannot
start, its rows are skipped with the reason.

    python -m bench.bench_leases [--db sqlite --db postgres] [--ttl 3 --ttl 15] [--trials 6] [--pg-trials 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg

from actions.clock import utc_now
from actions.leases import LeaseKeeper
from store.backend import open_store_at
from store.postgres.local import LocalPostgres, PostgresUnavailable, start_local

LEASE = "agent"
TEMPLATE = "lease_template"
Databases = Callable[[str], Awaitable[str]]
"""Makes a fresh store for the trial named by its argument; returns what ``open_store_at`` opens."""


async def _child(db: str, owner: str, ttl: float) -> None:
    store = await open_store_at(db)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def work(done: asyncio.Event) -> None:
        print(f"held {time.time():.6f}", flush=True)
        await done.wait()

    keeper = LeaseKeeper(store, LEASE, owner=owner, ttl=timedelta(seconds=ttl), clock=utc_now, work=work)
    print("ready", flush=True)
    try:
        await keeper.run(stop)
    finally:
        await store.aclose()


async def _spawn(db: str, owner: str, ttl: float) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.bench_leases",
        "--child",
        db,
        owner,
        str(ttl),
        stdout=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    return process


async def _line(process: asyncio.subprocess.Process, prefix: str, limit: float) -> str:
    assert process.stdout is not None
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), timeout=limit)
        if not raw:
            raise RuntimeError(f"the child exited before printing {prefix!r}")
        line = raw.decode().strip()
        if line.startswith(prefix):
            return line


async def _trial(databases: Databases, ttl: float, index: int, *, kill: bool) -> float:
    db = await databases(f"lease_{ttl:g}_{index}_{'kill' if kill else 'term'}".replace(".", "_"))
    holder = await _spawn(db, "a", ttl)
    standby: asyncio.subprocess.Process | None = None
    try:
        await _line(holder, "held", limit=60)
        standby = await _spawn(db, "b", ttl)
        await _line(standby, "ready", limit=60)
        await asyncio.sleep(ttl / 3 + random.uniform(0, ttl / 3))  # the standby has tried; any phase
        stopped_at = time.time()
        holder.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        await holder.wait()
        held = await _line(standby, "held", limit=ttl * 3 + 30)
        return float(held.split()[1]) - stopped_at
    finally:
        for process in (holder, standby):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()


def _row(store: str, what: str, ttl: float, samples: list[float], bound: float) -> str:
    return (
        f"| {store} | {what} | {ttl:g} | {len(samples)} | {statistics.median(samples):.2f} "
        f"| {max(samples):.2f} | {bound:.2f} |"
    )


async def _rows(store: str, databases: Databases, ttls: list[float], trials: int) -> list[str]:
    rows = []
    for ttl in ttls:
        killed = [await _trial(databases, ttl, i, kill=True) for i in range(trials)]
        stopped = [await _trial(databases, ttl, i, kill=False) for i in range(max(2, trials // 2))]
        rows.append(_row(store, "SIGKILL", ttl, killed, ttl * 4 / 3))
        rows.append(_row(store, "SIGTERM (released)", ttl, stopped, ttl / 3))
    return rows


async def _postgres_databases(server: LocalPostgres) -> Databases:
    """Fresh databases cloned from one migrated template (a trial must not find the last one's lease)."""
    conn = await asyncpg.connect(server.dsn("postgres"))
    try:
        await conn.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await conn.close()
    store = await open_store_at(server.dsn(TEMPLATE))
    await store.aclose()

    async def fresh(name: str) -> str:
        conn = await asyncpg.connect(server.dsn("postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
        finally:
            await conn.close()
        return server.dsn(name)

    return fresh


async def _main(stores: list[str], ttls: list[float], trials: int, pg_trials: int) -> None:
    rows: list[str] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-leases-") as tmp:
        directory = Path(tmp)
        if "sqlite" in stores:

            async def sqlite_file(name: str) -> str:
                return str(directory / f"{name}.db")

            rows += await _rows("SQLite file", sqlite_file, ttls, trials)
        if "postgres" in stores:
            try:
                server = start_local(fsync=True)
            except PostgresUnavailable as exc:
                notes.append(f"PostgreSQL could not start, so its rows are missing: {exc}")
            else:
                try:
                    rows += await _rows("PostgreSQL", await _postgres_databases(server), ttls, pg_trials)
                finally:
                    server.stop()
    print("## Lease hand-over (two processes on one store)\n")
    print(
        "Seconds from the holder's end to the other process running the work. Bound after a SIGKILL: "
        "`ttl + ttl/3` (the lease lapses, then the standby's next try); after a SIGTERM, which releases "
        "the lease: `ttl/3` (the standby's next try). The bot's default ttl is 15 s (`LEASE_TTL_SECONDS`).\n"
    )
    print("| store | holder ended by | ttl (s) | trials | median (s) | max (s) | bound (s) |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    for note in notes:
        print(f"\n{note}")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        db, owner, ttl = argv[1], argv[2], float(argv[3])
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_child(db, owner, ttl))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ttl", type=float, action="append", help="lease ttl in seconds (repeatable)")
    parser.add_argument(
        "--db", choices=("sqlite", "postgres"), action="append", help="the store (repeatable; default both)"
    )
    parser.add_argument("--trials", type=int, default=6, help="SIGKILL trials per ttl on SQLite")
    parser.add_argument("--pg-trials", type=int, default=3, help="SIGKILL trials per ttl on PostgreSQL")
    args = parser.parse_args(argv)
    random.seed(17)
    asyncio.run(
        _main(args.db or ["sqlite", "postgres"], args.ttl or [3.0, 15.0], args.trials, args.pg_trials)
    )


if __name__ == "__main__":
    main(sys.argv[1:])
