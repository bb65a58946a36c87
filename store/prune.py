"""Retention: move the audit rows older than a date into an export file and leave an anchor row.

The rows are exported (and the file fsynced) before anything is removed. The removal is one transaction:
the rows up to the last one written before the date go, and an *anchor* row takes the id of the last of
them, carrying that row's hash, so the chain that follows still verifies (``store.chain``) and the
export file verifies on its own and ends with that same hash. Nothing else ever deletes audit rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from store import chain, export
from store.codec import to_db_time
from store.connection import transaction

PRUNE_ACTOR = "tikv-chatops/prune"


@dataclass(frozen=True, slots=True)
class Pruned:
    rows: int
    through_id: int | None
    last_hash: str | None


def _segment_end(conn: sqlite3.Connection, before: str) -> int | None:
    """The id of the last row of the longest prefix of the log written before ``before``."""
    first_new = conn.execute("SELECT MIN(id) FROM action_log WHERE created_at >= ?", (before,)).fetchone()[0]
    if first_new is not None:
        end = conn.execute("SELECT MAX(id) FROM action_log WHERE id < ?", (first_new,)).fetchone()[0]
    else:
        end = conn.execute("SELECT MAX(id) FROM action_log").fetchone()[0]
    if end is None:
        return None
    row = conn.execute("SELECT event FROM action_log WHERE id = ?", (end,)).fetchone()
    return None if row["event"] == chain.ANCHOR_EVENT else int(end)  # only an anchor: nothing to prune


def prune(path: str, *, before: datetime, export_to: str, busy_timeout: float = 5.0) -> Pruned:
    """Export then remove the rows written before ``before``; see the module docstring."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        cutoff = to_db_time(before)
        conn.execute("BEGIN")
        try:
            end = _segment_end(conn, cutoff)
            if end is None:
                return Pruned(0, None, None)
            # The rows up to ``end`` never change (only a PD write's result, which is not hashed).
            records = export.rows(conn)
            count, last_hash = export.write_file(_until(records, end), export.format_of(export_to), export_to)
        finally:
            conn.execute("COMMIT")
        with transaction(conn):
            row = conn.execute("SELECT row_hash, created_at FROM action_log WHERE id = ?", (end,)).fetchone()
            first_id = conn.execute("SELECT MIN(id) FROM action_log").fetchone()[0]
            if row is None or row["row_hash"] != last_hash:
                raise RuntimeError(f"row {end} changed while it was exported; nothing was pruned")
            conn.execute("INSERT INTO audit_pruning (token) VALUES (1)")
            conn.execute("DELETE FROM action_log_regions WHERE log_id <= ?", (end,))
            conn.execute("DELETE FROM action_log_stores WHERE log_id <= ?", (end,))
            conn.execute("DELETE FROM action_log WHERE id <= ?", (end,))
            detail = {
                "first_id": first_id,
                "pruned_through_id": end,
                "rows": count,
                "before": cutoff,
                "export": Path(export_to).name,
                "last_hash": last_hash,
            }
            conn.execute(
                "INSERT INTO action_log (id, actor, action, request_json, created_at, executed_at, event,"
                " summary, prev_hash, row_hash) VALUES (?, ?, 'prune', ?, ?, ?, ?, ?, NULL, ?)",
                (
                    end,
                    PRUNE_ACTOR,
                    json.dumps(detail, separators=(",", ":")),
                    row["created_at"],
                    row["created_at"],
                    chain.ANCHOR_EVENT,
                    f"rows {first_id}–{end} (written before {cutoff}) pruned to {Path(export_to).name}",
                    last_hash,
                ),
            )
            conn.execute("DELETE FROM audit_pruning")
        return Pruned(count, end, last_hash)
    finally:
        conn.close()


def _until(records: Iterator[dict[str, Any]], end: int) -> Iterator[dict[str, Any]]:
    for record in records:
        if record["id"] > end:
            return
        yield record
