"""Export the audit log as JSON Lines or CSV, streaming, and read an export back.

``tikv-chatops audit export --db PATH [--format jsonl|csv] [--output FILE] [--since WHEN]`` calls
``export_main``. Rows come out oldest first, one ``AuditEntry`` each: in JSONL as its JSON, in CSV as
its fields in order, with JSON-valued fields as JSON text and ``None`` as an empty cell. The store is
opened read-only, so an export never migrates or writes the database, and the bot can keep running.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from actions.models import AuditEntry
from store.errors import StoreError
from store.sqlite import SqliteProposalStore, open_store

Format = Literal["jsonl", "csv"]

FIELDS: tuple[str, ...] = tuple(AuditEntry.model_fields)
"""The columns of a CSV export, in order: the fields of ``AuditEntry``."""

_JSON_FIELDS = frozenset({"request_json", "result_json", "approval_json"})
_NULLABLE = frozenset(
    name for name, info in AuditEntry.model_fields.items() if info.default is None and not info.is_required()
)


def _csv_cell(value: Any, field: str) -> str:
    if value is None:
        return ""
    if field in _JSON_FIELDS:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def export_audit(
    store: SqliteProposalStore, fmt: Format, out: TextIO, since: datetime | None = None
) -> int:
    """Write every audit row (created at or after ``since``) to ``out``; returns how many."""
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(FIELDS)
    count = 0
    async for entry in store.iter_audit(since=since):
        if writer is None:
            out.write(entry.model_dump_json() + "\n")
        else:
            data = entry.model_dump(mode="json")
            writer.writerow([_csv_cell(data[name], name) for name in FIELDS])
        count += 1
    return count


def read_audit(fmt: Format, src: TextIO) -> Iterator[AuditEntry]:
    """The entries of an export written by ``export_audit``, in file order."""
    if fmt == "jsonl":
        for line in src:
            if line.strip():
                yield AuditEntry.model_validate_json(line)
        return
    for row in csv.DictReader(src):
        data: dict[str, Any] = {}
        for name in FIELDS:
            cell = row[name]
            if cell == "" and name in _NULLABLE:
                data[name] = None
            elif name in _JSON_FIELDS:
                data[name] = json.loads(cell)
            else:
                data[name] = cell
        yield AuditEntry.model_validate(data)


def _parse_since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time such as 2026-11-28T12:00Z"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tikv-chatops audit export",
        description="Write the audit log as JSON Lines or CSV, oldest first.",
    )
    parser.add_argument("--db", required=True, metavar="PATH", help="the SQLite database (TIKV_CHATOPS_DB)")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="default: jsonl")
    parser.add_argument("--output", metavar="FILE", default="-", help="default: standard output")
    parser.add_argument(
        "--since",
        type=_parse_since,
        metavar="WHEN",
        help="only rows created at or after WHEN (ISO-8601; UTC if no zone)",
    )
    return parser


async def _export(db: str, fmt: Format, out: TextIO, since: datetime | None) -> int:
    store = await open_store(db, read_only=True)
    try:
        return await export_audit(store, fmt, out, since)
    finally:
        await store.aclose()


def _export_to_file(db: str, fmt: Format, output: str, since: datetime | None) -> int:
    # Write beside the target and rename on success, so a failed export never leaves a partial file.
    target = Path(output)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            count = asyncio.run(_export(db, fmt, out, since))
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return count


def export_main(argv: list[str]) -> int:
    """``tikv-chatops audit export``: 0 on success, 1 when the export failed, 2 for bad arguments."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage or the help
        return exc.code if isinstance(exc.code, int) else 2
    fmt: Format = args.format
    if not Path(args.db).is_file():
        print(f"tikv-chatops audit export: no database at {args.db}", file=sys.stderr)
        return 1
    try:
        if args.output == "-":
            count = asyncio.run(_export(args.db, fmt, sys.stdout, args.since))
            sys.stdout.flush()
        else:
            count = _export_to_file(args.db, fmt, args.output, args.since)
    except (StoreError, OSError) as exc:
        print(f"tikv-chatops audit export: {exc}", file=sys.stderr)
        return 1
    where = "standard output" if args.output == "-" else args.output
    print(f"exported {count} audit rows to {where}", file=sys.stderr)
    return 0
