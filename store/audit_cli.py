"""``tikv-chatops audit export | verify | prune``: the audit log from the command line.

The database is the one the bot uses: ``TIKV_CHATOPS_DB`` (default ``tikv-chatops.db``); ``--db`` only
overrides it. Exit codes: 0 done (or the chain is intact), 1 failed (or the chain is broken, with the
first broken row named), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from store import chain, export, prune
from store.backend import is_postgres_url
from store.errors import StoreError

DEFAULT_DB = "tikv-chatops.db"


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time such as 2026-11-28T12:00Z"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help=f"the SQLite database (default: $TIKV_CHATOPS_DB, else {DEFAULT_DB})",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tikv-chatops audit", description="The audit log: export, verify, prune."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="write the audit log as JSON Lines or CSV, oldest first")
    _db_argument(ex)
    ex.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="default: jsonl")
    ex.add_argument("--output", metavar="FILE", default="-", help="default: standard output")
    ex.add_argument(
        "--since", type=_when, metavar="WHEN", help="rows created at or after WHEN (ISO-8601; UTC)"
    )
    ex.add_argument("--until", type=_when, metavar="WHEN", help="rows created before WHEN (ISO-8601; UTC)")
    ex.add_argument("--proposal", type=int, metavar="N", help="only proposal N's rows")
    ve = sub.add_parser("verify", help="walk the hash chain; exits 1 naming the first broken row")
    _db_argument(ve)
    ve.add_argument("--file", metavar="FILE", help="verify an unfiltered export file instead of the database")
    ve.add_argument("--format", choices=("jsonl", "csv"), help="the file's format (default: from its name)")
    pr = sub.add_parser("prune", help="export the rows written before DATE to FILE, then remove them")
    _db_argument(pr)
    pr.add_argument("--before", type=_when, required=True, metavar="DATE", help="ISO-8601 date or time (UTC)")
    pr.add_argument(
        "--export", required=True, metavar="FILE", help="where the pruned rows go (.csv or .jsonl)"
    )
    return parser


def _db(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get("TIKV_CHATOPS_DB") or DEFAULT_DB)


def _fail(message: str) -> int:
    print(f"tikv-chatops audit: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str]) -> int:
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse has printed the usage or the help
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "verify" and args.file:
        try:
            verdict = export.verify_file(args.file, args.format)
        except (OSError, ValueError, KeyError) as exc:
            return _fail(f"could not read {args.file}: {exc}")
        return _report(verdict, args.file)
    db = _db(args)
    if is_postgres_url(db):
        return _on_postgres(db, args.command)
    if not os.path.isfile(db):
        return _fail(f"no database at {db} (set TIKV_CHATOPS_DB or pass --db)")
    try:
        if args.command == "export":
            return _export(db, args)
        if args.command == "verify":
            conn = export.connect_read_only(db)
            try:
                return _report(chain.verify_db(conn), db)
            finally:
                conn.close()
        done = prune.prune(db, before=args.before, export_to=args.export)
    except (StoreError, OSError, sqlite3.Error, RuntimeError) as exc:
        return _fail(str(exc))
    if done.rows == 0:
        print("nothing to prune: no rows were written before that date", file=sys.stderr)
    else:
        print(
            f"pruned {done.rows} audit rows (through row {done.through_id}) to {args.export}; "
            f"the anchor carries hash {done.last_hash}",
            file=sys.stderr,
        )
    return 0


def _on_postgres(url: str, command: str) -> int:
    """``verify`` walks the chain in PostgreSQL; export and prune read SQLite files (docs/postgres.md)."""
    from store.postgres.db import redact
    from store.postgres.store import verify_at

    if command != "verify":
        return _fail(
            f"audit {command} reads an SQLite file; on PostgreSQL only `audit verify` runs (docs/postgres.md)"
        )
    try:
        verdict = asyncio.run(verify_at(url))
    except StoreError as exc:
        return _fail(str(exc))
    return _report(verdict, redact(url))


def _export(db: str, args: argparse.Namespace) -> int:
    filters = export.Filters(since=args.since, until=args.until, proposal_id=args.proposal)
    conn = export.connect_read_only(db)
    try:
        conn.execute("BEGIN")  # one snapshot for the whole file
        records = export.rows(conn, filters)
        if args.output == "-":
            count, _ = export.write(records, args.format, sys.stdout)
            sys.stdout.flush()
        else:
            count, _ = export.write_file(records, args.format, args.output)
        conn.execute("COMMIT")
    finally:
        conn.close()
    where = "standard output" if args.output == "-" else args.output
    print(f"exported {count} audit rows to {where}", file=sys.stderr)
    return 0


def _report(verdict: chain.Verdict, what: str) -> int:
    if verdict.ok:
        print(f"{what}: {verdict.message}")
        return 0
    print(f"{what}: BROKEN: {verdict.message}", file=sys.stderr)
    return 1
