"""Lease hand-over: how long after the holder is SIGKILLed (or stopped) another replica runs its work.

Each trial starts two processes on one SQLite file (WAL), each running the bot's ``LeaseKeeper`` for
the ``agent`` lease with a work that prints the moment it starts. Once the first holds the lease and
the second is trying, the holder is SIGKILLed at a random point of its renewal period; the figure is
the time from the kill to the second process's work starting (both read the same wall clock). The
bound is ``ttl + ttl/3``: the lease lapses at most ``ttl`` after the last renewal, and the standby
tries every ``ttl/3``. A clean stop (SIGTERM: the lease is released) is measured beside it.

    python -m bench.bench_leases [--ttl 3 --ttl 15] [--trials 6]
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
from datetime import timedelta
from pathlib import Path

from actions.clock import utc_now
from actions.leases import LeaseKeeper
from store.sqlite import open_store

LEASE = "agent"


async def _child(db: str, owner: str, ttl: float) -> None:
    store = await open_store(db)
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


async def _trial(directory: Path, ttl: float, index: int, *, kill: bool) -> float:
    db = str(directory / f"lease-{ttl:g}-{index}-{'kill' if kill else 'term'}.db")
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


def _row(what: str, ttl: float, samples: list[float], bound: float) -> str:
    return (
        f"| {what} | {ttl:g} | {len(samples)} | {statistics.median(samples):.2f} | {max(samples):.2f} "
        f"| {bound:.2f} |"
    )


async def _main(ttls: list[float], trials: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-leases-") as tmp:
        directory = Path(tmp)
        for ttl in ttls:
            killed = [await _trial(directory, ttl, i, kill=True) for i in range(trials)]
            stopped = [await _trial(directory, ttl, i, kill=False) for i in range(max(2, trials // 2))]
            rows.append(_row("SIGKILL", ttl, killed, ttl * 4 / 3))
            rows.append(_row("SIGTERM (released)", ttl, stopped, ttl / 3))
    print("## Lease hand-over (SQLite, WAL; two processes)\n")
    print(
        "Seconds from the holder's end to the other process running the work. Bound after a SIGKILL: "
        "`ttl + ttl/3` (the lease lapses, then the standby's next try); after a SIGTERM, which releases "
        "the lease: `ttl/3` (the standby's next try).\n"
    )
    print("| holder ended by | ttl (s) | trials | median (s) | max (s) | bound (s) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        db, owner, ttl = argv[1], argv[2], float(argv[3])
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_child(db, owner, ttl))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ttl", type=float, action="append", help="lease ttl in seconds (repeatable)")
    parser.add_argument("--trials", type=int, default=6)
    args = parser.parse_args(argv)
    random.seed(17)
    asyncio.run(_main(args.ttl or [3.0, 15.0], args.trials))


if __name__ == "__main__":
    main(sys.argv[1:])
