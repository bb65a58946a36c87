"""Tickets, the Slack outbox, counts and leases on PostgreSQL (async, over an ``asyncpg.Connection``).

The same rules as ``store.tickets``, ``store.outbox`` and ``store.counts``; each function runs inside
the caller's transaction (``PgDatabase.run``). Where SQLite's single writer made a read-then-write
safe, an upsert (``ON CONFLICT``) or a row lock (``FOR UPDATE``) does it here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from actions.models import ProposalState, Ticket
from actions.ports import Lease
from store.codec import TICKET_COLUMNS, dumps, from_db_time, ticket_from_row, to_db_time
from store.counts import ClusterTally
from store.outbox import SlackDebt, SlackDebtKind

# --- tickets -----------------------------------------------------------------------------------------


async def open_ticket(
    conn: asyncpg.Connection, *, key: str, title: str, detail: dict[str, Any], now: datetime
) -> tuple[Ticket, bool]:
    """The open ticket for ``key``, creating it if none is open (two callers at once create one)."""
    created = await conn.fetchrow(
        f"INSERT INTO tickets (key, title, state, detail_json, created_at) VALUES ($1, $2, 'open', $3, $4)"
        f" ON CONFLICT (key) WHERE state = 'open' DO NOTHING RETURNING {TICKET_COLUMNS}",
        key,
        title,
        dumps(detail),
        to_db_time(now),
    )
    if created is not None:
        return ticket_from_row(created), True
    existing = await conn.fetchrow(
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE key = $1 AND state = 'open'", key
    )
    assert existing is not None  # the conflict above was with it, and it was committed
    return ticket_from_row(existing), False


async def list_open_tickets(conn: asyncpg.Connection) -> list[Ticket]:
    rows = await conn.fetch(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE state = 'open' ORDER BY id")
    return [ticket_from_row(row) for row in rows]


async def close_ticket(conn: asyncpg.Connection, ticket_id: int, *, now: datetime) -> None:
    await conn.execute(
        "UPDATE tickets SET state = 'closed', closed_at = $1 WHERE id = $2 AND state = 'open'",
        to_db_time(now),
        ticket_id,
    )


# --- the Slack outbox ----------------------------------------------------------------------------------

_ORDER = "CASE kind WHEN 'card' THEN 0 WHEN 'update' THEN 1 ELSE 2 END"
_COLUMNS = "proposal_id, kind, channel, generation, attempts, last_error, claimed_at, created_at, updated_at"


def _debt(row: asyncpg.Record) -> SlackDebt:
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


async def owe(
    conn: asyncpg.Connection,
    proposal_id: int,
    kind: SlackDebtKind,
    *,
    channel: str | None,
    error: str,
    now: datetime,
) -> SlackDebt:
    at = to_db_time(now)
    row = await conn.fetchrow(
        "INSERT INTO slack_outbox (proposal_id, kind, channel, last_error, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (proposal_id, kind) DO UPDATE SET"
        " generation = slack_outbox.generation + 1,"
        " channel = coalesce(excluded.channel, slack_outbox.channel),"
        f" last_error = excluded.last_error, updated_at = excluded.updated_at RETURNING {_COLUMNS}",
        proposal_id,
        kind.value,
        channel,
        error,
        at,
    )
    return _debt(row)


async def owed(conn: asyncpg.Connection, *, limit: int, proposal_id: int | None) -> list[SlackDebt]:
    if proposal_id is None:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM slack_outbox ORDER BY proposal_id, {_ORDER} LIMIT $1", limit
        )
    else:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM slack_outbox WHERE proposal_id = $1 ORDER BY {_ORDER} LIMIT $2",
            proposal_id,
            limit,
        )
    return [_debt(row) for row in rows]


async def claim(
    conn: asyncpg.Connection, proposal_id: int, kind: SlackDebtKind, *, now: datetime, stale_before: datetime
) -> SlackDebt | None:
    """``store.outbox.claim``; the row is locked while it is judged, so two claimers cannot both win."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM slack_outbox WHERE proposal_id = $1 AND kind = $2 FOR UPDATE",
        proposal_id,
        kind.value,
    )
    if row is None:
        return None
    debt = _debt(row)
    if debt.claimed_at is not None and debt.claimed_at >= stale_before:
        return None
    await conn.execute(
        "UPDATE slack_outbox SET claimed_at = $1 WHERE proposal_id = $2 AND kind = $3",
        to_db_time(now),
        proposal_id,
        kind.value,
    )
    return debt


async def release(
    conn: asyncpg.Connection, proposal_id: int, kind: SlackDebtKind, *, error: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE slack_outbox SET claimed_at = NULL, attempts = attempts + 1, last_error = $1, updated_at = $2"
        " WHERE proposal_id = $3 AND kind = $4",
        error,
        to_db_time(now),
        proposal_id,
        kind.value,
    )


async def settle(conn: asyncpg.Connection, proposal_id: int, kind: SlackDebtKind, *, generation: int) -> bool:
    done = await conn.execute(
        "DELETE FROM slack_outbox WHERE proposal_id = $1 AND kind = $2 AND generation = $3",
        proposal_id,
        kind.value,
        generation,
    )
    if done.endswith(" 0"):
        await conn.execute(
            "UPDATE slack_outbox SET claimed_at = NULL WHERE proposal_id = $1 AND kind = $2",
            proposal_id,
            kind.value,
        )
        return False
    return True


async def forget(conn: asyncpg.Connection, proposal_id: int, kind: SlackDebtKind) -> None:
    await conn.execute(
        "DELETE FROM slack_outbox WHERE proposal_id = $1 AND kind = $2", proposal_id, kind.value
    )


async def outbox_counts(conn: asyncpg.Connection) -> dict[SlackDebtKind, int]:
    found = {
        row[0]: row[1] for row in await conn.fetch("SELECT kind, count(*) FROM slack_outbox GROUP BY kind")
    }
    return {kind: int(found.get(kind.value, 0)) for kind in SlackDebtKind}


# --- counts --------------------------------------------------------------------------------------------


# A proposal's cluster is in its request (an edit never changes it); "default" for rows from before
# clusters had names, as on SQLite (store.counts).
_CLUSTER = "COALESCE(({table}request_json::jsonb) ->> 'cluster', 'default')"


async def cluster_counts(
    conn: asyncpg.Connection, tally: ClusterTally
) -> dict[tuple[str, ProposalState], int]:
    """``store.counts.cluster_counts``: per (cluster, state), followed through the events written since.

    Run it in one snapshot (``PgDatabase.read``). Events take their ids under the chain's lock and
    commit in id order, so a snapshot holds every event up to its newest one and none is skipped.
    """
    last = int(await conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM events"))
    if tally.counts is None or last < tally.last_event:
        counts: dict[tuple[str, ProposalState], int] = {}
        query = f"SELECT {_CLUSTER.format(table='')}, state, COUNT(*) FROM proposals GROUP BY 1, 2"
        for cluster, state, count in await conn.fetch(query):
            counts[(str(cluster), ProposalState(state))] = int(count)
        tally.full_counts += 1
    else:
        counts = dict(tally.counts)
        for cluster, before, after, count in await conn.fetch(
            f"SELECT {_CLUSTER.format(table='p.')}, e.from_state, e.to_state, COUNT(*)"
            " FROM events e JOIN proposals p ON p.id = e.proposal_id WHERE e.id > $1 AND e.id <= $2"
            " GROUP BY 1, 2, 3",
            tally.last_event,
            last,
        ):
            if before is not None:
                key = (str(cluster), ProposalState(before))
                counts[key] = counts.get(key, 0) - int(count)
            key = (str(cluster), ProposalState(after))
            counts[key] = counts.get(key, 0) + int(count)
    for cluster in {c for c, _ in counts}:
        for state in ProposalState:
            counts.setdefault((cluster, state), 0)
    tally.counts, tally.last_event = counts, last
    return dict(counts)


# --- leases --------------------------------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def acquire_lease(
    conn: asyncpg.Connection, name: str, *, owner: str, ttl: timedelta, now: datetime
) -> Lease | None:
    """Take ``name`` when it is free or expired, renew it when ``owner`` holds it; None otherwise.

    One upsert: a concurrent taker waits for this row's lock, then sees it held. The token grows by
    one whenever a new tenure starts (another owner, or this owner after its lease lapsed), so a
    holder that was paused past its expiry carries a token older than its successor's.
    """
    if now.tzinfo is None or ttl <= timedelta(0):
        raise ValueError("a lease needs an aware 'now' and a positive ttl")
    row = await conn.fetchrow(
        "INSERT INTO leases AS l (name, owner, token, expires_at) VALUES ($1, $2, 1, $3)"
        " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,"
        " token = CASE WHEN l.owner = excluded.owner AND l.expires_at > $4 THEN l.token ELSE l.token + 1 END"
        " WHERE l.owner = excluded.owner OR l.expires_at <= $4"
        " RETURNING name, owner, token, expires_at",
        name,
        owner,
        now + ttl,
        now,
    )
    if row is None:
        return None
    return Lease(name=row["name"], owner=row["owner"], token=int(row["token"]), expires_at=row["expires_at"])


async def release_lease(conn: asyncpg.Connection, name: str, *, owner: str) -> None:
    """Let ``name`` go now if ``owner`` holds it (the row and its token stay, expired)."""
    await conn.execute(
        "UPDATE leases SET expires_at = $1 WHERE name = $2 AND owner = $3", _EPOCH, name, owner
    )
