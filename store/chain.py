"""The audit log's hash chain: every row carries a SHA-256 over its content and the previous row's hash.

``row_hash = sha256(prev_hash + "\\n" + id + "\\n" + content)``, where ``content`` is the canonical JSON
of the row's fields (``content``). The first row's ``prev_hash`` is ``GENESIS``. The hash is computed
inside the transaction that writes the row, from the newest row's hash as that transaction sees it
(``head``), so rows committed together by the group commit chain in commit order.

What is hashed: everything a row says when it is written. A PD write's row (event ``pd_request``) gets
its result filled in later, so its ``result_json`` and ``executed_at`` are left out of its hash; the result
is recorded again, hashed, as a row of its own (see ``store.timeline``). Every other row's result is
part of its hash (and a trigger keeps it from changing).

``verify`` walks rows in id order and names the first that breaks the chain. After a prune the first
row is an *anchor*: it carries the hash of the last pruned row, which the export of the pruned rows
ends with. See docs/audit-trail.md.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from store.connection import transaction
from store.summaries import describe

GENESIS = "0" * 64
"""The ``prev_hash`` of the first row of a log that was never pruned."""

PD_REQUEST_EVENT = "pd_request"
"""The event of an execution's "about to call PD" row, the one row whose result is filled in later."""

ANCHOR_EVENT = "anchor"
"""The event of the row a prune leaves in place of the rows it removed."""


def content(
    *,
    proposal_id: int | None,
    ticket_id: int | None,
    actor: str,
    action: str,
    event: str,
    summary: str,
    dry_run: bool,
    caller_id: str,
    request: Any,
    approval: Any,
    created_at: str,
    result: Any,
    executed_at: str | None,
) -> str:
    """The canonical text of a row's content: the same from the database and from an export."""
    sealed = event != PD_REQUEST_EVENT
    return json.dumps(
        [
            proposal_id,
            ticket_id,
            actor,
            action,
            event,
            summary,
            bool(dry_run),
            caller_id,
            request,
            approval,
            created_at,
            result if sealed else None,
            executed_at if sealed else None,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def link(prev_hash: str, log_id: int, body: str) -> str:
    """The hash of row ``log_id`` with content ``body`` following a row whose hash is ``prev_hash``."""
    return hashlib.sha256(f"{prev_hash}\n{log_id}\n{body}".encode()).hexdigest()


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def row_content(row: sqlite3.Row | Mapping[str, Any]) -> str:
    """``content`` of an ``action_log`` row as stored."""
    return content(
        proposal_id=row["proposal_id"],
        ticket_id=row["ticket_id"],
        actor=row["actor"],
        action=row["action"],
        event=row["event"],
        summary=row["summary"],
        dry_run=bool(row["dry_run"]),
        caller_id=row["caller_id"],
        request=_loads(row["request_json"]),
        approval=_loads(row["approval_json"]),
        created_at=row["created_at"],
        result=_loads(row["result_json"]),
        executed_at=row["executed_at"],
    )


# --- the writing side (inside the caller's transaction) ----------------------------------------------


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    """The newest row's id and hash, sealing first any rows written without a hash (rows from before
    the chain existed). ``(0, GENESIS)`` for an empty log."""
    found = conn.execute("SELECT last_id, last_hash FROM audit_head WHERE one = 1").fetchone()
    last_id, last_hash = (0, GENESIS) if found is None else (int(found[0]), str(found[1]))
    top = conn.execute("SELECT MAX(id) FROM action_log").fetchone()[0]
    if top is not None and top > last_id:
        last_id, last_hash = _seal_after(conn, last_id, last_hash)
    return last_id, last_hash


def advance(conn: sqlite3.Connection, last_id: int, last_hash: str) -> None:
    conn.execute(
        "INSERT INTO audit_head (one, last_id, last_hash) VALUES (1, ?, ?)"
        " ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash",
        (last_id, last_hash),
    )


def _seal_after(
    conn: sqlite3.Connection, last_id: int, last_hash: str, *, page: int = 2000
) -> tuple[int, str]:
    """Hash the rows after ``last_id`` that have no hash yet, in id order, ``page`` at a time; a row
    from before the chain gets its event and summary (``store.summaries``) first."""
    while True:
        rows = conn.execute(
            "SELECT id, proposal_id, ticket_id, actor, action, event, summary, dry_run, caller_id,"
            " request_json, approval_json, created_at, result_json, executed_at, row_hash FROM action_log"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, page),
        ).fetchall()
        for row in rows:
            if row["row_hash"] is None:
                fields = dict(zip(row.keys(), row, strict=True))
                if not fields["event"]:
                    fields["event"], fields["summary"] = describe(
                        {
                            "action": row["action"],
                            "dry_run": bool(row["dry_run"]),
                            "caller_id": row["caller_id"],
                            "request_json": _loads(row["request_json"]),
                            "result_json": _loads(row["result_json"]),
                        }
                    )
                digest = link(last_hash, row["id"], row_content(fields))
                conn.execute(
                    "UPDATE action_log SET event = ?, summary = ?, prev_hash = ?, row_hash = ? WHERE id = ?",
                    (fields["event"], fields["summary"], last_hash, digest, row["id"]),
                )
                last_hash = digest
            else:
                last_hash = row["row_hash"]
            last_id = row["id"]
        if len(rows) < page:
            break
    advance(conn, last_id, last_hash)
    return last_id, last_hash


def seal(conn: sqlite3.Connection) -> int:
    """Hash the rows that have none yet (in id order), in one transaction; returns the newest id."""
    with transaction(conn):
        return head(conn)[0]


# --- verifying ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainRow:
    """What verifying needs of one row, from the database or from an export."""

    id: int
    event: str
    body: str
    prev_hash: str | None
    row_hash: str | None
    anchor_hash: str | None = None  # an anchor's record of the pruned segment's last hash


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    rows: int
    message: str
    row_id: int | None = None


def verify(rows: Iterable[ChainRow], *, head: tuple[int, str] | None = None) -> Verdict:
    """Walk ``rows`` (in id order) and name the first one that breaks the chain.

    ``head`` (the database's record of its newest row) also catches rows deleted from the end.
    """
    prev = GENESIS
    expected: int | None = None
    count = 0
    last_id = 0
    for row in rows:
        count += 1
        if row.event == ANCHOR_EVENT:
            if count != 1:
                return Verdict(
                    False, count, f"row {row.id} is a prune anchor in the middle of the log", row.id
                )
            if row.row_hash is None or row.row_hash != row.anchor_hash:
                return Verdict(False, count, f"row {row.id} (a prune anchor) was altered", row.id)
            prev, expected, last_id = row.row_hash, row.id + 1, row.id
            continue
        if row.row_hash is None:
            return Verdict(
                False, count, f"row {row.id} has no hash: it was written outside the chain", row.id
            )
        if expected is not None and row.id != expected:
            if row.id > expected:
                missing = str(expected) if row.id == expected + 1 else f"{expected}–{row.id - 1}"
                return Verdict(
                    False, count, f"row {missing} is missing: deleted before row {row.id}", expected
                )
            return Verdict(False, count, f"row {row.id} is out of order (after row {expected - 1})", row.id)
        if row.prev_hash != prev:
            return Verdict(
                False,
                count,
                f"row {row.id} does not follow the row before it: a row was deleted, replaced or inserted "
                "out of order there",
                row.id,
            )
        if link(prev, row.id, row.body) != row.row_hash:
            return Verdict(False, count, f"row {row.id} was altered after it was written", row.id)
        prev, expected, last_id = row.row_hash, row.id + 1, row.id
    if head is not None and (head[0] != last_id or (last_id and head[1] != prev)):
        if head[0] > last_id:
            return Verdict(
                False, count, f"rows {last_id + 1}–{head[0]} are missing: deleted from the end", last_id + 1
            )
        return Verdict(False, count, f"the log's head does not match row {last_id}", last_id or None)
    return Verdict(True, count, f"{count} rows, chain intact" + (f", newest row {last_id}" if count else ""))


_VERIFY_COLUMNS = (
    "id, proposal_id, ticket_id, actor, action, event, summary, dry_run, caller_id, request_json,"
    " approval_json, created_at, result_json, executed_at, prev_hash, row_hash"
)


def db_rows(conn: sqlite3.Connection, *, page: int = 2000) -> Iterator[ChainRow]:
    """Every row of ``action_log`` as a ``ChainRow``, in id order, read ``page`` at a time."""
    after = -1
    while True:
        batch = conn.execute(
            f"SELECT {_VERIFY_COLUMNS} FROM action_log WHERE id > ? ORDER BY id LIMIT ?", (after, page)
        ).fetchall()
        for row in batch:
            anchor = None
            if row["event"] == ANCHOR_EVENT:
                anchor = (_loads(row["request_json"]) or {}).get("last_hash")
            yield ChainRow(
                id=row["id"],
                event=row["event"],
                body=row_content(row),
                prev_hash=row["prev_hash"],
                row_hash=row["row_hash"],
                anchor_hash=anchor,
            )
        if len(batch) < page:
            return
        after = batch[-1]["id"]


def db_head(conn: sqlite3.Connection) -> tuple[int, str]:
    found = conn.execute("SELECT last_id, last_hash FROM audit_head WHERE one = 1").fetchone()
    return (0, GENESIS) if found is None else (int(found[0]), str(found[1]))


def verify_db(conn: sqlite3.Connection) -> Verdict:
    """``verify`` over the whole ``action_log`` and its head, in one read snapshot."""
    conn.execute("BEGIN")
    try:
        return verify(db_rows(conn), head=db_head(conn))
    finally:
        conn.execute("COMMIT")
