"""The Slack outbox (what Slack still has to be told), as plain functions over an ``sqlite3.Connection``.

A row is a debt about one proposal, at most one per kind:

    card     its card was never posted (chat.postMessage failed in a way that proves nothing was posted)
    update   its card shows an older state than the proposal has
    result   its result was never posted in the card's thread

The row holds no message: whoever pays it renders the message from the proposal's current state, so
paying it late, or twice for an update, tells the truth. Paying follows claim -> tell Slack -> settle:
the claim (``claimed_at``) is committed before Slack is called, so a second process, or this one after
a crash, can see that a post may already have gone out. ``generation`` grows each time the debt is owed
again, so a settle that raced a newer failure leaves the newer debt owed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from store.codec import from_db_time, to_db_time
from store.connection import transaction


class SlackDebtKind(StrEnum):
    """What Slack is owed, in the order it is paid (a thread needs its card first)."""

    CARD = "card"
    UPDATE = "update"
    RESULT = "result"


_ORDER = "CASE kind WHEN 'card' THEN 0 WHEN 'update' THEN 1 ELSE 2 END"
_COLUMNS = "proposal_id, kind, channel, generation, attempts, last_error, claimed_at, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class SlackDebt:
    """One owed Slack delivery. ``claimed_at`` is set while (or since) someone is paying it."""

    proposal_id: int
    kind: SlackDebtKind
    channel: str | None
    generation: int
    attempts: int
    last_error: str
    claimed_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _from_row(row: sqlite3.Row) -> SlackDebt:
    return SlackDebt(
        proposal_id=row["proposal_id"],
        kind=SlackDebtKind(row["kind"]),
        channel=row["channel"],
        generation=row["generation"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        claimed_at=None if row["claimed_at"] is None else from_db_time(row["claimed_at"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


def _get(conn: sqlite3.Connection, proposal_id: int, kind: SlackDebtKind) -> SlackDebt | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM slack_outbox WHERE proposal_id = ? AND kind = ?", (proposal_id, kind.value)
    ).fetchone()
    return None if row is None else _from_row(row)


def owe(
    conn: sqlite3.Connection,
    proposal_id: int,
    kind: SlackDebtKind,
    *,
    channel: str | None,
    error: str,
    now: datetime,
) -> SlackDebt:
    """Record the debt, or bump the generation of the one already owed (one row per kind)."""
    at = to_db_time(now)
    with transaction(conn):
        conn.execute(
            "INSERT INTO slack_outbox (proposal_id, kind, channel, last_error, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (proposal_id, kind) DO UPDATE SET generation = generation + 1, "
            "channel = coalesce(excluded.channel, channel), last_error = excluded.last_error, "
            "updated_at = excluded.updated_at",
            (proposal_id, kind.value, channel, error, at, at),
        )
        debt = _get(conn, proposal_id, kind)
        assert debt is not None  # written just above, in this transaction
        return debt


def owed(conn: sqlite3.Connection, *, limit: int, proposal_id: int | None = None) -> list[SlackDebt]:
    """Oldest proposal first, and per proposal card, then update, then result."""
    where, args = ("", (limit,)) if proposal_id is None else ("WHERE proposal_id = ?", (proposal_id, limit))
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM slack_outbox {where} ORDER BY proposal_id, {_ORDER} LIMIT ?", args
    ).fetchall()
    return [_from_row(row) for row in rows]


def claim(
    conn: sqlite3.Connection, proposal_id: int, kind: SlackDebtKind, *, now: datetime, stale_before: datetime
) -> SlackDebt | None:
    """Claim the debt for paying; None when it is gone or someone claimed it after ``stale_before``.

    The debt returned is as it was before this claim: a ``claimed_at`` on it means an earlier claim
    was abandoned (its process died or gave up mid-call), so Slack may already have the message.
    """
    with transaction(conn):
        debt = _get(conn, proposal_id, kind)
        if debt is None or (debt.claimed_at is not None and debt.claimed_at >= stale_before):
            return None
        conn.execute(
            "UPDATE slack_outbox SET claimed_at = ? WHERE proposal_id = ? AND kind = ?",
            (to_db_time(now), proposal_id, kind.value),
        )
        return debt


def release(
    conn: sqlite3.Connection, proposal_id: int, kind: SlackDebtKind, *, error: str, now: datetime
) -> None:
    """Slack refused again: the debt stays owed, unclaimed, with one more failed attempt."""
    with transaction(conn):
        conn.execute(
            "UPDATE slack_outbox SET claimed_at = NULL, attempts = attempts + 1, last_error = ?, "
            "updated_at = ? WHERE proposal_id = ? AND kind = ?",
            (error, to_db_time(now), proposal_id, kind.value),
        )


def settle(
    conn: sqlite3.Connection,
    proposal_id: int,
    kind: SlackDebtKind,
    *,
    generation: int,
) -> bool:
    """Slack accepted it: delete the debt.

    When the debt was owed again after ``generation`` was read, only the claim is dropped, so the
    newer failure is still paid; returns whether the row was deleted.
    """
    with transaction(conn):
        deleted = conn.execute(
            "DELETE FROM slack_outbox WHERE proposal_id = ? AND kind = ? AND generation = ?",
            (proposal_id, kind.value, generation),
        ).rowcount
        if not deleted:
            conn.execute(
                "UPDATE slack_outbox SET claimed_at = NULL WHERE proposal_id = ? AND kind = ?",
                (proposal_id, kind.value),
            )
        return bool(deleted)


def forget(conn: sqlite3.Connection, proposal_id: int, kind: SlackDebtKind) -> None:
    """Drop the debt whatever its state (nothing left to tell, or telling it could repeat a card)."""
    with transaction(conn):
        conn.execute("DELETE FROM slack_outbox WHERE proposal_id = ? AND kind = ?", (proposal_id, kind.value))


def counts(conn: sqlite3.Connection) -> dict[SlackDebtKind, int]:
    """How many debts of each kind are owed (every kind present, zero included)."""
    found = dict(conn.execute("SELECT kind, count(*) FROM slack_outbox GROUP BY kind").fetchall())
    return {kind: int(found.get(kind.value, 0)) for kind in SlackDebtKind}
