"""The action log (audit), as plain functions over an ``sqlite3.Connection``.

A row is written once; only an execution's ``result_json`` and ``executed_at`` are filled in later
(triggers in the schema enforce both). Each row's regions and stores go to ``action_log_regions``
and ``action_log_stores`` too, so "newest N rows about store S" reads one index range backwards
however large the log is.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from actions.models import AuditEntry
from actions.ports import AuditQuery
from store import chain
from store.codec import AUDIT_COLUMNS, audit_from_row, dumps, opt_dumps, opt_time, subjects, to_db_time
from store.connection import transaction
from store.errors import StoreError
from store.summaries import describe

_SELECT = f"SELECT {', '.join('a.' + c.strip() for c in AUDIT_COLUMNS.split(','))} FROM "


_SQLITE_MIN, _SQLITE_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """An AuditEntry already turned into column values, so the write itself is only SQL."""

    values: tuple[Any, ...]
    regions: list[int]
    stores: list[int]
    body: str  # the row's canonical content, hashed into the chain when it is written


def prepare(entry: AuditEntry) -> PreparedRow:
    """Serialise ``entry``. The store calls this before handing the write to the connection's
    thread, so under load this CPU work overlaps the previous commit's fsync."""
    data = entry.model_dump(mode="json")
    # An id SQLite cannot hold (a fuzzed 20-digit region) is kept in the JSON, just not indexed.
    regions, stores = (
        [i for i in ids if _SQLITE_MIN <= i <= _SQLITE_MAX] for ids in subjects(data["request_json"])
    )
    event, summary = describe(data)
    request_text, result_text = dumps(data["request_json"]), opt_dumps(data["result_json"])
    approval_text = opt_dumps(data["approval_json"])
    created_at, executed_at = to_db_time(entry.created_at), opt_time(entry.executed_at)
    body = chain.content(
        proposal_id=entry.proposal_id,
        ticket_id=entry.ticket_id,
        actor=entry.actor,
        action=entry.action,
        event=event,
        summary=summary,
        dry_run=entry.dry_run,
        caller_id=entry.caller_id,
        # Read back from the stored text, so the hash is of exactly what the row will say.
        request=json.loads(request_text),
        approval=None if approval_text is None else json.loads(approval_text),
        created_at=created_at,
        result=None if result_text is None else json.loads(result_text),
        executed_at=executed_at,
    )
    values = (
        entry.proposal_id,
        entry.ticket_id,
        entry.actor,
        entry.action,
        int(entry.dry_run),
        entry.caller_id,
        regions[0] if regions else None,
        stores[0] if stores else None,
        request_text,
        result_text,
        approval_text,
        created_at,
        executed_at,
        event,
        summary,
    )
    return PreparedRow(values, regions, stores, body)


def insert_all(conn: sqlite3.Connection, rows: list[PreparedRow]) -> list[int]:
    """Insert rows and their region/store references, chained in order (inside the caller's
    transaction): each row's id and hash follow the newest row as this transaction sees it."""
    last_id, last_hash = chain.head(conn)
    ids: list[int] = []
    for row in rows:
        log_id = last_id + 1
        digest = chain.link(last_hash, log_id, row.body)
        conn.execute(
            "INSERT INTO action_log (id, proposal_id, ticket_id, actor, action, dry_run, caller_id,"
            " region_id, store_id, request_json, result_json, approval_json, created_at, executed_at, event,"
            " summary, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (log_id, *row.values, last_hash, digest),
        )
        for region in row.regions:
            conn.execute("INSERT INTO action_log_regions (region_id, log_id) VALUES (?, ?)", (region, log_id))
        for store in row.stores:
            conn.execute("INSERT INTO action_log_stores (store_id, log_id) VALUES (?, ?)", (store, log_id))
        ids.append(log_id)
        last_id, last_hash = log_id, digest
    chain.advance(conn, last_id, last_hash)
    return ids


def insert(conn: sqlite3.Connection, row: PreparedRow) -> int:
    """Insert one row (inside the caller's transaction); see ``insert_all``."""
    return insert_all(conn, [row])[0]


def append(conn: sqlite3.Connection, row: PreparedRow) -> int:
    """One durable row: its own short transaction, committed (and fsynced) before this returns."""
    with transaction(conn):
        return insert(conn, row)


def append_many(conn: sqlite3.Connection, rows: list[PreparedRow]) -> list[int]:
    """Rows in one transaction, committed (and fsynced) before this returns; their ids in order."""
    with transaction(conn):
        return [insert(conn, row) for row in rows]


def set_result(
    conn: sqlite3.Connection, log_id: int, *, proposal_id: int, result_json: str, executed_at: str | None
) -> None:
    """Fill in an execution's result on its intent row (inside the caller's transaction)."""
    cursor = conn.execute(
        "UPDATE action_log SET result_json = ?, executed_at = COALESCE(?, executed_at)"
        " WHERE id = ? AND proposal_id = ?",
        (result_json, executed_at, log_id, proposal_id),
    )
    if cursor.rowcount == 0:
        raise StoreError(f"audit row {log_id} is not proposal {proposal_id}'s; nothing was recorded")


_REGION_OF_ROW = "EXISTS (SELECT 1 FROM action_log_regions x WHERE x.region_id = ? AND x.log_id = a.id)"
_STORE_OF_ROW = "EXISTS (SELECT 1 FROM action_log_stores x WHERE x.store_id = ? AND x.log_id = a.id)"


def build_query(q: AuditQuery) -> tuple[str, list[Any]]:
    """The SQL and parameters of an audit query, newest first.

    The most selective filter that is set drives the read (a proposal has a handful of rows, a region
    few, a ticket some, a store a large share of the log): its index is walked backwards by id, so
    LIMIT stops the read early, and the other filters are checked per row through their own keys.
    ``CROSS JOIN`` keeps SQLite from walking the whole log by id instead of the reference table.
    """
    checks: list[tuple[str, Any]] = []
    if q.proposal_id is None and q.region_id is not None:
        source, order = "action_log_regions r CROSS JOIN action_log a ON a.id = r.log_id", "r.log_id"
        checks.append(("r.region_id = ?", q.region_id))
    elif q.proposal_id is None and q.ticket_id is None and q.store_id is not None:
        source, order = "action_log_stores s CROSS JOIN action_log a ON a.id = s.log_id", "s.log_id"
        checks.append(("s.store_id = ?", q.store_id))
    else:
        source, order = "action_log a", "a.id"
    if q.proposal_id is not None:
        checks.append(("a.proposal_id = ?", q.proposal_id))
    if q.ticket_id is not None:
        checks.append(("a.ticket_id = ?", q.ticket_id))
    if q.region_id is not None and order != "r.log_id":
        checks.append((_REGION_OF_ROW, q.region_id))
    if q.store_id is not None and order != "s.log_id":
        checks.append((_STORE_OF_ROW, q.store_id))
    if q.actor is not None:
        checks.append(("a.actor = ?", q.actor))
    if q.since is not None:
        checks.append(("a.created_at >= ?", to_db_time(q.since)))
    sql = _SELECT + source
    if checks:
        sql += " WHERE " + " AND ".join(check for check, _ in checks)
    return sql + f" ORDER BY {order} DESC LIMIT ?", [*(value for _, value in checks), q.limit]


def query(conn: sqlite3.Connection, q: AuditQuery) -> list[AuditEntry]:
    sql, params = build_query(q)
    return [audit_from_row(row) for row in conn.execute(sql, params).fetchall()]


def page(conn: sqlite3.Connection, *, after_id: int, since: datetime | None, size: int) -> list[AuditEntry]:
    """Up to ``size`` rows with id > ``after_id`` (and created at or after ``since``), oldest first.

    Paging by id keeps an export from holding the connection, or the whole log in memory.
    """
    sql = _SELECT + "action_log a WHERE a.id > ?"
    params: list[Any] = [after_id]
    if since is not None:
        sql += " AND a.created_at >= ?"
        params.append(to_db_time(since))
    rows = conn.execute(sql + " ORDER BY a.id LIMIT ?", (*params, size)).fetchall()
    return [audit_from_row(row) for row in rows]


def remember_actor(conn: sqlite3.Connection, actor: str, name: str, *, now: datetime) -> None:
    """The newest display name seen for ``actor`` (its own short transaction; unchanged names cost a read)."""
    known = conn.execute("SELECT name FROM actor_names WHERE actor = ?", (actor,)).fetchone()
    if known is not None and known[0] == name:
        return
    with transaction(conn):
        conn.execute(
            "INSERT INTO actor_names (actor, name, seen_at) VALUES (?, ?, ?)"
            " ON CONFLICT (actor) DO UPDATE SET name = excluded.name, seen_at = excluded.seen_at",
            (actor, name, to_db_time(now)),
        )
