"""Named leases (``actions.ports.LeaseStore``), as plain functions over an ``sqlite3.Connection``.

One guarded upsert takes or renews a lease, inside a ``BEGIN IMMEDIATE`` transaction: SQLite lets one
writer at a time through, across every process on the file, so two replicas can never both come out
holding the same unexpired lease. The row is kept when a lease is released or expires, so ``token``
(a fencing token) only ever grows: by one with every new tenure (another owner, or the same owner
again after its lease lapsed or was released), as on PostgreSQL. See docs/replicas.md.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from actions.ports import Lease
from store.codec import from_db_time, to_db_time
from store.connection import transaction

# What a released lease expires at: before any ``now``, so the next taker need not wait.
RELEASED_AT = to_db_time(datetime(1970, 1, 1, tzinfo=UTC))

_ACQUIRE = """
INSERT INTO leases (name, owner, token, expires_at) VALUES (:name, :owner, 1, :expires_at)
ON CONFLICT (name) DO UPDATE SET
    token = CASE WHEN leases.owner = excluded.owner AND leases.expires_at > :now
                 THEN leases.token ELSE leases.token + 1 END,
    owner = excluded.owner,
    expires_at = excluded.expires_at
WHERE leases.owner = excluded.owner OR leases.expires_at <= :now
RETURNING owner, token, expires_at
"""


def acquire(
    conn: sqlite3.Connection, name: str, *, owner: str, ttl: timedelta, now: datetime
) -> Lease | None:
    params = {"name": name, "owner": owner, "expires_at": to_db_time(now + ttl), "now": to_db_time(now)}
    with transaction(conn):
        rows = conn.execute(_ACQUIRE, params).fetchall()  # drained: a RETURNING statement ends when read
    if not rows:
        return None
    row = rows[0]
    return Lease(
        name=name, owner=row["owner"], token=int(row["token"]), expires_at=from_db_time(row["expires_at"])
    )


def release(conn: sqlite3.Connection, name: str, *, owner: str) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE leases SET expires_at = ? WHERE name = ? AND owner = ?", (RELEASED_AT, name, owner)
        )
