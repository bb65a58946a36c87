"""The audit log and its hash chain on PostgreSQL, as async functions over an ``asyncpg.Connection``.

The rows, their content and their hashes are exactly SQLite's (``store.audit.prepare`` serialises
them, ``store.chain`` hashes them). Appends are serialised by ``lock_head``: ``SELECT … FOR UPDATE`` on
``audit_head``'s one row, held until the writing transaction commits. So each transaction chains its
rows after the newest committed row, ids are given in commit order, and two replicas appending at
once still build one chain. Every function runs inside the caller's transaction (``PgDatabase.run``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg

from actions.models import AuditEntry
from actions.ports import AuditQuery
from store import chain
from store.audit import PreparedRow, build_query
from store.codec import AUDIT_COLUMNS, audit_from_row, to_db_time
from store.errors import StoreError

_INSERT = (
    "INSERT INTO action_log (id, proposal_id, ticket_id, actor, action, dry_run, caller_id, region_id,"
    " store_id, request_json, result_json, approval_json, created_at, executed_at, event, summary,"
    " prev_hash, row_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
    " $17, $18)"
)


def numbered(sql: str) -> str:
    """SQLite's ``?`` placeholders as PostgreSQL's ``$1, $2 …`` (for SQL shared with ``store.audit``)."""
    parts = sql.split("?")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, start=1))


async def lock_head(conn: asyncpg.Connection) -> tuple[int, str]:
    """The newest row's id and hash, locked until this transaction ends (the chain's append lock)."""
    row = await conn.fetchrow("SELECT last_id, last_hash FROM audit_head WHERE one = 1 FOR UPDATE")
    if row is None:
        raise StoreError("the audit log's head row is missing: the schema was altered by hand")
    return int(row["last_id"]), str(row["last_hash"])


async def insert_all(conn: asyncpg.Connection, rows: list[PreparedRow]) -> list[int]:
    """Insert rows with their region/store references, chained in order after the locked head."""
    last_id, last_hash = await lock_head(conn)
    ids: list[int] = []
    regions: list[tuple[int, int]] = []
    stores: list[tuple[int, int]] = []
    records: list[tuple[Any, ...]] = []
    for row in rows:
        log_id = last_id + 1
        digest = chain.link(last_hash, log_id, row.body)
        records.append((log_id, *row.values, last_hash, digest))
        regions += [(region, log_id) for region in row.regions]
        stores += [(store, log_id) for store in row.stores]
        ids.append(log_id)
        last_id, last_hash = log_id, digest
    await conn.executemany(_INSERT, records)
    if regions:
        await conn.executemany("INSERT INTO action_log_regions (region_id, log_id) VALUES ($1, $2)", regions)
    if stores:
        await conn.executemany("INSERT INTO action_log_stores (store_id, log_id) VALUES ($1, $2)", stores)
    await conn.execute("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE one = 1", last_id, last_hash)
    return ids


async def insert(conn: asyncpg.Connection, row: PreparedRow) -> int:
    return (await insert_all(conn, [row]))[0]


async def set_result(
    conn: asyncpg.Connection, log_id: int, *, proposal_id: int, result_json: str, executed_at: str | None
) -> None:
    """Fill in an execution's result on its intent row."""
    done = await conn.execute(
        "UPDATE action_log SET result_json = $1, executed_at = COALESCE($2, executed_at)"
        " WHERE id = $3 AND proposal_id = $4",
        result_json,
        executed_at,
        log_id,
        proposal_id,
    )
    if done.endswith(" 0"):
        raise StoreError(f"audit row {log_id} is not proposal {proposal_id}'s; nothing was recorded")


async def query(conn: asyncpg.Connection, q: AuditQuery) -> list[AuditEntry]:
    sql, params = build_query(q)
    # SQLite's CROSS JOIN fixes its join order; PostgreSQL plans the same join itself.
    sql = numbered(sql.replace(" CROSS JOIN ", " JOIN "))
    return [audit_from_row(row) for row in await conn.fetch(sql, *params)]


async def page(
    conn: asyncpg.Connection, *, after_id: int, since: datetime | None, size: int
) -> list[AuditEntry]:
    columns = ", ".join("a." + c.strip() for c in AUDIT_COLUMNS.split(","))
    sql = f"SELECT {columns} FROM action_log a WHERE a.id > $1"
    params: list[Any] = [after_id]
    if since is not None:
        sql += " AND a.created_at >= $2"
        params.append(to_db_time(since))
    rows = await conn.fetch(sql + f" ORDER BY a.id LIMIT ${len(params) + 1}", *params, size)
    return [audit_from_row(row) for row in rows]


async def remember_actor(conn: asyncpg.Connection, actor: str, name: str, *, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO actor_names (actor, name, seen_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (actor) DO UPDATE SET name = excluded.name, seen_at = excluded.seen_at"
        " WHERE actor_names.name IS DISTINCT FROM excluded.name",
        actor,
        name,
        to_db_time(now),
    )


async def _chain_rows(conn: asyncpg.Connection, *, page_size: int = 2000) -> AsyncIterator[chain.ChainRow]:
    after = -1
    while True:
        batch = await conn.fetch(
            "SELECT id, proposal_id, ticket_id, actor, action, event, summary, dry_run, caller_id,"
            " request_json, approval_json, created_at, result_json, executed_at, prev_hash, row_hash"
            " FROM action_log WHERE id > $1 ORDER BY id LIMIT $2",
            after,
            page_size,
        )
        for row in batch:
            anchor = None
            if row["event"] == chain.ANCHOR_EVENT:
                anchor = json.loads(row["request_json"] or "{}").get("last_hash")
            yield chain.ChainRow(
                id=row["id"],
                event=row["event"],
                body=chain.row_content(row),
                prev_hash=row["prev_hash"],
                row_hash=row["row_hash"],
                anchor_hash=anchor,
            )
        if len(batch) < page_size:
            return
        after = batch[-1]["id"]


async def verify(conn: asyncpg.Connection) -> chain.Verdict:
    """``store.chain.verify`` over the whole log and its head (call it in one snapshot)."""
    rows = [row async for row in _chain_rows(conn)]
    head = await conn.fetchrow("SELECT last_id, last_hash FROM audit_head WHERE one = 1")
    return chain.verify(rows, head=None if head is None else (int(head[0]), str(head[1])))
