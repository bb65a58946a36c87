"""Export the audit log as JSON Lines or CSV, streaming, read an export back, and verify one.

Rows come out oldest first with readable columns (``FIELDS``): the time (ISO 8601, UTC), the actor's id
and the display name the bot last saw for it, the event, a one-line summary, the proposal, cluster, PD
request and outcome, and the full content and both hashes, so an exported file can be checked against
the hash chain on its own (``verify_file``). The database is read through one plain ``sqlite3`` cursor
opened read-only: rows stream from SQLite to the file, so memory does not grow with the log.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from store import chain
from store.codec import to_db_time
from store.migrate import load_migrations, require_current
from store.summaries import pd_request_text

Format = Literal["jsonl", "csv"]

FIELDS: tuple[str, ...] = (
    "id",
    "time",
    "actor",
    "actor_name",
    "event",
    "summary",
    "proposal",
    "ticket",
    "cluster",
    "action",
    "pd_request",
    "caller_id",
    "outcome",
    "dry_run",
    "request",
    "approvals",
    "result",
    "executed_at",
    "prev_hash",
    "hash",
)
"""The columns of an export, in order (JSONL objects have the same keys)."""

_JSON_FIELDS = frozenset({"request", "approvals", "result"})
_INT_FIELDS = frozenset({"id", "proposal", "ticket"})


@dataclass(frozen=True, slots=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    proposal_id: int | None = None


def connect_read_only(path: str) -> sqlite3.Connection:
    """A plain read-only connection to a current database (the bot can keep running)."""
    uri = Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    require_current(conn, load_migrations())
    return conn


def outcome(event: str, request: Any, result: Any) -> str:
    """What came of the row, in a word or a few."""
    if isinstance(result, dict):
        if "state" in result:
            return str(result["state"])
        if "refused" in result:
            return f"refused ({result['refused']})"
        if "blocked" in result:
            return "would fail" if result["blocked"] else "would pass"
    if isinstance(request, dict) and request.get("to_state"):
        return str(request["to_state"])
    return "sent" if event == chain.PD_REQUEST_EVENT else ""


def _pd_request(request: Any, caller_id: str) -> str:
    """``POST /pd/api/v1/operators X-Caller-ID: tikv-chatops/7`` when the row names a PD request."""
    text = pd_request_text(request)
    if isinstance(request, dict) and not caller_id:
        caller_id = str(request.get("caller_id") or "")
    return f"{text} X-Caller-ID: {caller_id}" if text and caller_id else text


def rows(conn: sqlite3.Connection, filters: Filters = Filters()) -> Iterator[dict[str, Any]]:
    """Every matching row as an export record, oldest first, streamed from one cursor."""
    where: list[str] = []
    params: list[Any] = []
    if filters.since is not None:
        where.append("a.created_at >= ?")
        params.append(to_db_time(filters.since))
    if filters.until is not None:
        where.append("a.created_at < ?")
        params.append(to_db_time(filters.until))
    if filters.proposal_id is not None:
        where.append("a.proposal_id = ?")
        params.append(filters.proposal_id)
    sql = (
        "SELECT a.*, n.name AS actor_name FROM action_log a LEFT JOIN actor_names n ON n.actor = a.actor"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY a.id"
    )
    for row in conn.execute(sql, params):
        request = json.loads(row["request_json"])
        result = None if row["result_json"] is None else json.loads(row["result_json"])
        yield {
            "id": row["id"],
            "time": row["created_at"],
            "actor": row["actor"],
            "actor_name": row["actor_name"] or "",
            "event": row["event"],
            "summary": row["summary"],
            "proposal": row["proposal_id"],
            "ticket": row["ticket_id"],
            "cluster": request.get("cluster", "") if isinstance(request, dict) else "",
            "action": row["action"],
            "pd_request": _pd_request(request, row["caller_id"]),
            "caller_id": row["caller_id"],
            "outcome": outcome(row["event"], request, result),
            "dry_run": bool(row["dry_run"]),
            "request": request,
            "approvals": None if row["approval_json"] is None else json.loads(row["approval_json"]),
            "result": result,
            "executed_at": row["executed_at"],
            "prev_hash": row["prev_hash"],
            "hash": row["row_hash"],
        }


def _cell(value: Any, field: str) -> str:
    if value is None:
        return ""
    if field in _JSON_FIELDS:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write(records: Iterator[dict[str, Any]], fmt: Format, out: TextIO) -> tuple[int, str | None]:
    """Write ``records`` to ``out``; how many, and the hash of the last one."""
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(FIELDS)
    count, last = 0, None
    for record in records:
        if writer is None:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        else:
            writer.writerow([_cell(record[name], name) for name in FIELDS])
        count, last = count + 1, record["hash"]
    return count, last


def write_file(records: Iterator[dict[str, Any]], fmt: Format, output: str) -> tuple[int, str | None]:
    """``write`` beside ``output``, fsynced, then renamed over it: a failed export leaves no partial file."""
    target = Path(output)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            outcome_ = write(records, fmt, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return outcome_


def read(fmt: Format, src: TextIO) -> Iterator[dict[str, Any]]:
    """The records of an export written by ``write``, in file order."""
    if fmt == "jsonl":
        for line in src:
            if line.strip():
                yield json.loads(line)
        return
    for row in csv.DictReader(src):
        record: dict[str, Any] = {}
        for name in FIELDS:
            cell = row.get(name, "")
            if name in _JSON_FIELDS:
                record[name] = None if cell == "" else json.loads(cell)
            elif name in _INT_FIELDS:
                record[name] = None if cell == "" else int(cell)
            elif name == "dry_run":
                record[name] = cell == "true"
            elif name in ("executed_at", "prev_hash", "hash"):
                record[name] = cell or None
            else:
                record[name] = cell
        yield record


def chain_rows(records: Iterator[dict[str, Any]]) -> Iterator[chain.ChainRow]:
    """Export records as ``chain.ChainRow`` for ``chain.verify``."""
    for r in records:
        anchor = None
        if r["event"] == chain.ANCHOR_EVENT and isinstance(r["request"], dict):
            anchor = r["request"].get("last_hash")
        yield chain.ChainRow(
            id=int(r["id"]),
            event=r["event"],
            body=chain.content(
                proposal_id=r["proposal"],
                ticket_id=r["ticket"],
                actor=r["actor"],
                action=r["action"],
                event=r["event"],
                summary=r["summary"],
                dry_run=bool(r["dry_run"]),
                caller_id=r["caller_id"],
                request=r["request"],
                approval=r["approvals"],
                created_at=r["time"],
                result=r["result"],
                executed_at=r["executed_at"],
            ),
            prev_hash=r["prev_hash"],
            row_hash=r["hash"],
            anchor_hash=anchor,
        )


def format_of(path: str) -> Format:
    return "csv" if path.lower().endswith(".csv") else "jsonl"


def verify_file(path: str, fmt: Format | None = None) -> chain.Verdict:
    """Check an unfiltered export against the hash chain, without the database."""
    with open(path, encoding="utf-8", newline="") as src:
        return chain.verify(chain_rows(read(fmt or format_of(path), src)))
