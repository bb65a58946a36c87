"""Tickets (groups of findings), as plain functions over an ``sqlite3.Connection``.

At most one ticket per key is open at a time; a partial unique index in the schema enforces it, and
``open_ticket`` reads and inserts in one write transaction so two callers cannot both create one.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from actions.models import Ticket
from store.codec import TICKET_COLUMNS, dumps, ticket_from_row, to_db_time
from store.connection import transaction


def _open_by_key(conn: sqlite3.Connection, key: str) -> Ticket | None:
    row = conn.execute(
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE key = ? AND state = 'open'", (key,)
    ).fetchone()
    return None if row is None else ticket_from_row(row)


def open_ticket(
    conn: sqlite3.Connection, *, key: str, title: str, detail: dict[str, Any], now: datetime
) -> tuple[Ticket, bool]:
    with transaction(conn):
        existing = _open_by_key(conn, key)
        if existing is not None:
            return existing, False
        conn.execute(
            "INSERT INTO tickets (key, title, state, detail_json, created_at) VALUES (?, ?, 'open', ?, ?)",
            (key, title, dumps(detail), to_db_time(now)),
        )
        created = _open_by_key(conn, key)
        assert created is not None  # inserted just above, in this transaction
        return created, True


def list_open(conn: sqlite3.Connection) -> list[Ticket]:
    rows = conn.execute(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE state = 'open' ORDER BY id").fetchall()
    return [ticket_from_row(row) for row in rows]


def close_ticket(conn: sqlite3.Connection, ticket_id: int, *, now: datetime) -> None:
    """Close it if it is open; closing a closed or unknown ticket changes nothing."""
    with transaction(conn):
        conn.execute(
            "UPDATE tickets SET state = 'closed', closed_at = ? WHERE id = ? AND state = 'open'",
            (to_db_time(now), ticket_id),
        )
