"""Store benchmark: audit queries at 1,000,000 rows, and durable single-row appends.

Seeds an SQLite file with N action_log rows (one executemany transaction, through plain sqlite3 on
the migrated schema), then times each audit query kind through ``SqliteProposalStore.query_audit``
(the aiosqlite hop and the pydantic models included) and as bare SQL, and finally times 2,000
``log_entry`` calls, each durable (committed and fsynced, WAL, ``synchronous=FULL``) when it returns:
one at a time (a transaction each), then all at once (group commit: callers that arrive during a
commit share the next one).
Targets: queries < 10 ms, appends >= 2,000 rows/s.

Then the same durable appends on PostgreSQL beside SQLite, both on an empty log: a throwaway server
(``store.postgres.local``, fsync on, ``synchronous_commit = on``) through ``PostgresProposalStore``,
one process and then two "replicas" (two pools on one database) appending at once. Skipped, with the
reason, when no PostgreSQL can start (``make pg-deps`` installs it).

    python -m bench.bench_store [--rows 1000000] [--appends 2000] [--dir /tmp] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from actions.models import AuditEntry
from actions.ports import AuditQuery
from store import audit, chain, export
from store.backend import AnyStore
from store.postgres import open_postgres_store
from store.postgres.local import PostgresUnavailable, start_local
from store.sqlite import SqliteProposalStore, open_store

REGIONS = 200_000
STORES = 60
TICKETS = 5_000
PROPOSALS = 300_000
QUERY_RUNS = 300
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _rows(count: int, rng: random.Random) -> Iterator[tuple[tuple[object, ...], list[int], list[int]]]:
    actions = ("transfer-leader", "transfer-peer", "merge-region", "evict-leader-scheduler", "split-region")
    for i in range(count):
        action = actions[i % len(actions)]
        region = rng.randrange(1, REGIONS)
        regions: list[int] = [region]
        stores: list[int] = []
        if action == "transfer-leader":
            params: dict[str, object] = {"region_id": region, "to_store_id": rng.randrange(1, STORES)}
            stores = [int(str(params["to_store_id"]))]
        elif action == "transfer-peer":
            src, dst = rng.sample(range(1, STORES), 2)
            params = {"region_id": region, "from_store_id": src, "to_store_id": dst}
            stores = [dst, src]
        elif action == "merge-region":
            target = rng.randrange(1, REGIONS)
            params = {"source_region_id": region, "target_region_id": target}
            regions = [region] if target == region else [region, target]
        elif action == "evict-leader-scheduler":
            params = {"store_id": rng.randrange(1, STORES)}
            regions, stores = [], [int(str(params["store_id"]))]
        else:
            params = {"region_id": region, "policy": "approximate"}
        proposal = rng.randrange(1, PROPOSALS)
        at = (T0 + timedelta(seconds=i)).isoformat(timespec="microseconds").replace("+00:00", "Z")
        request = json.dumps(
            {"action": action, "params": params, "requester": f"U{rng.randrange(1, 400):04d}"}
        )
        result = json.dumps({"state": "succeeded", "message": "PD accepted the operator", "pd_status": 200})
        yield (
            (
                i + 1,
                proposal,
                rng.randrange(1, TICKETS),
                f"U{rng.randrange(1, 400):04d}",
                action,
                int(i % 7 == 0),
                f"tikv-chatops/{proposal}",
                regions[0] if regions else None,
                stores[0] if stores else None,
                request,
                result,
                "[]",
                at,
                at,
            ),
            regions,
            stores,
        )


def _chained(row: tuple[object, ...], prev: str) -> tuple[tuple[object, ...], str]:
    """``row`` with its event, summary and place in the hash chain (as ``store.audit`` writes them)."""
    (
        log_id,
        proposal,
        ticket,
        actor,
        action,
        dry_run,
        caller,
        _r,
        _s,
        request,
        result,
        approval,
        at,
        done,
    ) = row
    event, summary = "note", f"{action} by {actor}"
    body = chain.content(
        proposal_id=int(str(proposal)),
        ticket_id=int(str(ticket)),
        actor=str(actor),
        action=str(action),
        event=event,
        summary=summary,
        dry_run=bool(dry_run),
        caller_id=str(caller),
        request=json.loads(str(request)),
        approval=json.loads(str(approval)),
        created_at=str(at),
        result=json.loads(str(result)),
        executed_at=str(done),
    )
    digest = chain.link(prev, int(str(log_id)), body)
    return (*row, event, summary, prev, digest), digest


def seed(path: Path, count: int) -> float:
    """Insert ``count`` hash-chained rows and their references in one transaction; returns seconds."""
    rng = random.Random(7)
    started = time.perf_counter()
    log_rows: list[tuple[object, ...]] = []
    region_refs: list[tuple[int, int]] = []
    store_refs: list[tuple[int, int]] = []
    prev = chain.GENESIS
    for row, regions, stores in _rows(count, rng):
        chained, prev = _chained(row, prev)
        log_rows.append(chained)
        region_refs += [(r, int(str(row[0]))) for r in regions]
        store_refs += [(s, int(str(row[0]))) for s in stores]
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO action_log (id, proposal_id, ticket_id, actor, action, dry_run, caller_id,"
            " region_id, store_id, request_json, result_json, approval_json, created_at, executed_at,"
            " event, summary, prev_hash, row_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            log_rows,
        )
        conn.executemany("INSERT OR IGNORE INTO action_log_regions VALUES (?, ?)", region_refs)
        conn.executemany("INSERT OR IGNORE INTO action_log_stores VALUES (?, ?)", store_refs)
        chain.advance(conn, count, prev)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


async def _timed(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def bench_queries(store: SqliteProposalStore, path: Path, rows: int) -> list[str]:
    rng = random.Random(11)
    newest = T0 + timedelta(seconds=rows)
    kinds: dict[str, Callable[[], AuditQuery]] = {
        "recent 20": lambda: AuditQuery(limit=20),
        "by region": lambda: AuditQuery(region_id=rng.randrange(1, REGIONS)),
        "by store": lambda: AuditQuery(store_id=rng.randrange(1, STORES)),
        "by ticket": lambda: AuditQuery(ticket_id=rng.randrange(1, TICKETS)),
        "by proposal": lambda: AuditQuery(proposal_id=rng.randrange(1, PROPOSALS)),
        "by store and ticket": lambda: AuditQuery(
            store_id=rng.randrange(1, STORES), ticket_id=rng.randrange(1, TICKETS)
        ),
        "by user": lambda: AuditQuery(actor=f"U{rng.randrange(1, 400):04d}"),
        "since 2h": lambda: AuditQuery(since=newest - timedelta(hours=2)),
        "by user since 2h": lambda: AuditQuery(
            actor=f"U{rng.randrange(1, 400):04d}", since=newest - timedelta(hours=2)
        ),
    }
    lines = []
    with closing(sqlite3.connect(path)) as raw:
        per_store = raw.execute("SELECT count(*) FROM action_log_stores").fetchone()[0] // (STORES - 1)
        per_region = raw.execute("SELECT count(*) FROM action_log_regions").fetchone()[0] / (REGIONS - 1)
        lines.append(f"Each store is named by about {per_store:,} rows, each region by {per_region:.1f}.")
        for name, make in kinds.items():
            found: list[int] = []

            async def through_store(make: Callable[[], AuditQuery] = make, found: list[int] = found) -> None:
                found.append(len(await store.query_audit(make())))

            store_samples = await _timed(through_store, QUERY_RUNS)
            sql_samples = []
            for _ in range(QUERY_RUNS):
                sql, params = audit.build_query(make())
                started = time.perf_counter()
                raw.execute(sql, params).fetchall()
                sql_samples.append(time.perf_counter() - started)
            p50, p99 = _ms(store_samples)
            sql50, sql99 = _ms(sql_samples)
            verdict = "ok" if p99 < 10 else "SLOW"
            lines.append(
                f"| {name} | {statistics.mean(found):.1f} | {p50:.2f} | {p99:.2f} "
                f"| {sql50:.2f} | {sql99:.2f} | {verdict} |"
            )
    return lines


def fsync_ceiling(directory: Path, seconds: float = 1.0) -> float:
    """How many 24 KiB write + fdatasync pairs the device does per second right now: the ceiling for
    durable commits (an append writes about six 4 KiB WAL frames, then syncs)."""
    probe = directory / "fsync-probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block, count, started = b"\0" * 6 * 4096, 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            os.pwrite(fd, block, 0)
            os.fdatasync(fd)
            count += 1
        return count / (time.perf_counter() - started)
    finally:
        os.close(fd)
        probe.unlink()


def _entries(rng: random.Random, serial: Iterator[int]) -> Callable[[], AuditEntry]:
    def entry() -> AuditEntry:
        i = next(serial)
        # New proposals and tickets have the highest ids; regions and stores are anywhere.
        params = {"region_id": rng.randrange(1, REGIONS), "to_store_id": rng.randrange(1, STORES)}
        return AuditEntry(
            proposal_id=PROPOSALS + i,
            ticket_id=TICKETS + i // 40,
            actor="U0BENCH",
            action="transfer-leader",
            request_json={"action": "transfer-leader", "params": params},
            caller_id=f"tikv-chatops/{PROPOSALS + i}",
            created_at=datetime.now(UTC),
        )

    return entry


async def bench_appends(store: AnyStore, directory: Path, count: int, rounds: int) -> list[str]:
    entry = _entries(random.Random(5), iter(range(10**9)))
    lines = []
    for number in range(1, rounds + 1):
        ceiling = fsync_ceiling(directory)
        entries = [entry() for _ in range(count)]
        samples = []
        started = time.perf_counter()
        for item in entries:
            one = time.perf_counter()
            await store.log_entry(item)
            samples.append(time.perf_counter() - one)
        sequential = count / (time.perf_counter() - started)
        entries = [entry() for _ in range(count)]
        started = time.perf_counter()
        await asyncio.gather(*(store.log_entry(item) for item in entries))
        concurrent = count / (time.perf_counter() - started)
        p50, p99 = _ms(samples)
        lines.append(
            f"| {number} | {ceiling:,.0f} | {sequential:,.0f} | {p50:.2f} | {p99:.2f} | {concurrent:,.0f} |"
        )
    return lines


async def bench_postgres(directory: Path, count: int, rounds: int) -> list[str]:
    """Durable appends on an empty log: SQLite, PostgreSQL (one process), PostgreSQL (two replicas)."""
    lines = [
        "| store | round | device fdatasync/s | one at a time rows/s | p50 ms | p99 ms | concurrent rows/s |"
    ]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    sqlite_store = await open_store(str(directory / "empty.db"))
    try:
        lines += [
            f"| SQLite | {line[2:]}" for line in await bench_appends(sqlite_store, directory, count, rounds)
        ]
    finally:
        await sqlite_store.aclose()
    try:
        server = start_local(fsync=True)
    except PostgresUnavailable as exc:
        return [f"PostgreSQL skipped: {exc}."]
    try:
        first = await open_postgres_store(server.dsn(), max_connections=10)
        second = await open_postgres_store(server.dsn(), max_connections=10)
        try:
            pg_lines = await bench_appends(first, server.directory, count, rounds)
            lines += [f"| PostgreSQL | {line[2:]}" for line in pg_lines]
            entry = _entries(random.Random(9), iter(range(10**9, 2 * 10**9)))
            for number in range(1, rounds + 1):
                entries = [entry() for _ in range(count)]
                started = time.perf_counter()
                await asyncio.gather(*((first, second)[i % 2].log_entry(e) for i, e in enumerate(entries)))
                both = count / (time.perf_counter() - started)
                lines.append(f"| PostgreSQL, 2 replicas | {number} | | | | | {both:,.0f} |")
            verdict = await first.verify_audit()
            lines.append(f"\nChain after the PostgreSQL rounds: {verdict.message}.")
        finally:
            await first.aclose()
            await second.aclose()
    finally:
        server.stop()
    return lines


def _memory_peak(path: Path, out: Path, until: datetime) -> tuple[int, float]:
    """Rows exported up to ``until`` and the most Python memory the export held at once (tracemalloc)."""
    import tracemalloc

    conn = export.connect_read_only(str(path))
    tracemalloc.start()
    try:
        count, _ = export.write_file(export.rows(conn, export.Filters(until=until)), "jsonl", str(out))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        conn.close()
        out.unlink()
    return count, peak / 2**20


def bench_export(path: Path, directory: Path, seeded: int) -> list[str]:
    """Rows per second of ``tikv-chatops audit export`` (both formats) and ``audit verify``, and the
    export's peak memory for a tenth of the log and for all of it (streaming: it must not grow)."""
    lines = []
    for fmt in ("jsonl", "csv"):
        out = directory / f"export.{fmt}"
        conn = export.connect_read_only(str(path))
        started = time.perf_counter()
        count, _ = export.write_file(export.rows(conn), fmt, str(out))  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        conn.close()
        size = out.stat().st_size / 2**20
        lines.append(
            f"| export {fmt} | {count:,} | {seconds:.1f} | {count / seconds:,.0f} | {size:,.0f} MiB |"
        )
        if fmt == "jsonl":
            started = time.perf_counter()
            verdict = export.verify_file(str(out))
            seconds = time.perf_counter() - started
            rate, ok = verdict.rows / seconds, "ok" if verdict.ok else "BROKEN"
            lines.append(f"| verify --file (jsonl) | {verdict.rows:,} | {seconds:.1f} | {rate:,.0f} | {ok} |")
        out.unlink()
    conn = export.connect_read_only(str(path))
    started = time.perf_counter()
    verdict = chain.verify_db(conn)
    seconds = time.perf_counter() - started
    conn.close()
    ok = "ok" if verdict.ok else "BROKEN: " + verdict.message
    lines.append(
        f"| verify (database) | {verdict.rows:,} | {seconds:.1f} | {verdict.rows / seconds:,.0f} | {ok} |"
    )
    peaks = [
        _memory_peak(path, directory / "peak.jsonl", T0 + timedelta(seconds=seeded * share))
        for share in (0.01, 0.1)
    ]
    lines.append(
        "Export memory (tracemalloc peak, JSONL): "
        + "; ".join(f"{count:,} rows: {peak:.2f} MiB" for count, peak in peaks)
        + "."
    )
    return lines


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_store")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-export", action="store_true", help="skip the export and verify timings")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL appends")
    parser.add_argument(
        "--dir", default=None, help="where to put the database (default: a temporary directory)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.db"
        first = await open_store(str(path))  # creates and migrates the schema
        await first.aclose()
        seconds = seed(path, args.rows)
        size_mib = path.stat().st_size / 2**20
        os.sync()  # the seed's dirty pages would otherwise be written back during the timed appends
        store = await open_store(str(path))
        try:
            query_lines = await bench_queries(store, path, args.rows)
            append_lines = await bench_appends(store, Path(tmp), args.appends, args.rounds)
        finally:
            await store.aclose()
        export_lines = (
            ["| (skipped) | | | | |", ""] if args.no_export else bench_export(path, Path(tmp), args.rows)
        )
        postgres_lines = (
            ["PostgreSQL skipped (--no-postgres)."]
            if args.no_postgres
            else await bench_postgres(Path(tmp), args.appends, args.rounds)
        )
    print("## Store (SQLite, WAL, synchronous=FULL)\n")
    print(
        f"Seeded {args.rows:,} action_log rows in {seconds:.1f} s (one transaction); "
        f"file {size_mib:,.0f} MiB.\n"
    )
    print(f"Audit queries, {QUERY_RUNS} runs each with random ids, limit 20 (target: p99 < 10 ms).")
    print(query_lines[0] + "\n")
    print("| query | rows returned (mean) | store p50 ms | store p99 ms | SQL p50 ms | SQL p99 ms | |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(query_lines[1:]))
    print(
        "\n_store_ = `SqliteProposalStore.query_audit` (aiosqlite hop + models); "
        "_SQL_ = the same statement on sqlite3.\n"
    )
    print(
        f"Durable audit appends into the {args.rows:,}-row log: "
        f"{args.appends:,} `log_entry` calls per round, "
        "each durable when it returns: first one at a time (a committed, fsynced transaction each), "
        "then all at once (group commit: callers that arrive while a commit is on its way to disk share "
        "the next one) (target: >= 2,000 rows/s). _device_ is how many 24 KiB write+fdatasync pairs the "
        "same filesystem did per second just before the round: no single-row commit can beat it.\n"
    )
    print("| round | device fdatasync/s | one at a time rows/s | p50 ms | p99 ms | concurrent rows/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(append_lines))
    print(
        "\nEvery appended row is hash-chained (``store.chain``): its SHA-256 is computed inside the "
        "committing transaction from the newest row's hash, so the group commit chains in commit order.\n"
    )
    print(
        f"Export and verification of the whole log ({args.rows:,} seeded rows plus the appends): one "
        "plain sqlite3 cursor streaming to a file (`tikv-chatops audit export` / `audit verify`).\n"
    )
    print("| what | rows | seconds | rows/s | |")
    print("| --- | ---: | ---: | ---: | --- |")
    print("\n".join(export_lines[:-1]))
    print("\n" + export_lines[-1])
    print("\n## Store: durable audit appends, PostgreSQL beside SQLite\n")
    print(
        f"{args.appends:,} `log_entry` calls per round into an empty log, each committed (and flushed: "
        "SQLite WAL with synchronous=FULL; PostgreSQL with fsync and synchronous_commit on) and hash-chained "
        "when it returns. PostgreSQL is a local server on the same disk, reached over TCP on 127.0.0.1; "
        "_2 replicas_ = two stores (two connection pools, as two bot processes) appending at once, every "
        "row chained through the one head-row lock.\n"
    )
    print("\n".join(postgres_lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
