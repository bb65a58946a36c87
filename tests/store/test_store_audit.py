"""The audit log: rows kept as written, found by region, store, ticket or proposal through indexes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from typing import Any

import pytest
import store_builders as b

from actions.ports import AuditQuery
from store import audit
from store.codec import subjects
from store.sqlite import SqliteProposalStore


async def test_a_logged_entry_reads_back_as_written(store: SqliteProposalStore) -> None:
    """Every field of an AuditEntry survives the round trip, including nested JSON and unicode."""
    written = b.entry({"region_id": 12, "to_store_id": 3}, ticket_id=4, dry_run=True).model_copy(
        update={
            "result_json": {"checks": [{"name": "leader", "status": "pass"}], "note": "ünïcode ✓"},
            "approval_json": [{"approver": "U0ALICE"}],
            "executed_at": b.T0 + timedelta(seconds=1),
        }
    )
    log_id = await store.log_entry(written)
    (read,) = await store.query_audit(AuditQuery())
    chained = {"id": log_id, "event": "dry_run", "prev_hash": read.prev_hash, "row_hash": read.row_hash}
    assert read == written.model_copy(update=chained | {"summary": read.summary})
    assert read.summary.startswith("dry-run of transfer-leader region_id=12 to_store_id=3")
    assert read.prev_hash == "0" * 64 and read.row_hash is not None and len(read.row_hash) == 64


async def test_recent_rows_come_newest_first_up_to_the_limit(store: SqliteProposalStore) -> None:
    """The plain query is the newest N rows."""
    ids = [await store.log_entry(b.entry(actor=f"U{i}")) for i in range(5)]
    assert [e.id for e in await store.query_audit(AuditQuery(limit=3))] == ids[:1:-1]


async def test_by_region_finds_every_region_a_request_names(store: SqliteProposalStore) -> None:
    """A merge names two regions; the row is found by either, and not by an unrelated region."""
    merge = await store.log_entry(
        b.entry({"source_region_id": 7, "target_region_id": 8}, action="merge-region")
    )
    split = await store.log_entry(b.entry({"region_id": 8}, action="split-region"))
    await store.log_entry(b.entry({"region_id": 9}))
    assert [e.id for e in await store.query_audit(AuditQuery(region_id=7))] == [merge]
    assert [e.id for e in await store.query_audit(AuditQuery(region_id=8))] == [split, merge]
    assert await store.query_audit(AuditQuery(region_id=10)) == []


async def test_by_store_finds_source_and_target_stores(store: SqliteProposalStore) -> None:
    """A transfer-peer from store 1 to store 4 is found by store 1 and by store 4."""
    peer = await store.log_entry(
        b.entry({"region_id": 5, "from_store_id": 1, "to_store_id": 4}, action="transfer-peer")
    )
    evict = await store.log_entry(b.entry({"store_id": 4}, action="evict-leader-scheduler"))
    assert [e.id for e in await store.query_audit(AuditQuery(store_id=1))] == [peer]
    assert [e.id for e in await store.query_audit(AuditQuery(store_id=4))] == [evict, peer]


async def test_by_ticket_and_by_proposal(store: SqliteProposalStore) -> None:
    """Ticket and proposal filters return only their rows, newest first."""
    a = await store.log_entry(b.entry(ticket_id=1, proposal_id=10))
    await store.log_entry(b.entry(ticket_id=2, proposal_id=11))
    c = await store.log_entry(b.entry(ticket_id=1, proposal_id=12))
    assert [e.id for e in await store.query_audit(AuditQuery(ticket_id=1))] == [c, a]
    assert [e.id for e in await store.query_audit(AuditQuery(proposal_id=12))] == [c]


async def test_filters_combine(store: SqliteProposalStore) -> None:
    """Region, store, ticket and proposal filters are ANDed."""
    match = await store.log_entry(b.entry({"region_id": 3, "to_store_id": 2}, ticket_id=5, proposal_id=1))
    await store.log_entry(b.entry({"region_id": 3, "to_store_id": 9}, ticket_id=5))
    await store.log_entry(b.entry({"region_id": 3, "to_store_id": 2}, ticket_id=6))
    await store.log_entry(b.entry({"region_id": 4, "to_store_id": 2}, ticket_id=5))
    found = await store.query_audit(AuditQuery(region_id=3, store_id=2, ticket_id=5))
    assert [e.id for e in found] == [match]
    assert [e.id for e in await store.query_audit(AuditQuery(store_id=2, ticket_id=5, proposal_id=1))] == [
        match
    ]


@pytest.mark.parametrize(
    ("request_json", "regions", "stores"),
    [
        ({"params": {"region_id": 12, "to_store_id": 3}}, [12], [3]),
        ({"params": {"source_region_id": 7, "target_region_id": 8}}, [7, 8], []),
        ({"params": {"region_id": 5, "from_store_id": 1, "to_store_id": 4}}, [5], [4, 1]),
        ({"body": {"name": "evict-leader-scheduler", "store_id": 6}}, [], [6]),
        ({"region_id": "42", "store_id": True}, [42], []),
        ({"params": {"name": "balance-leader-scheduler", "delay": 60}}, [], []),
    ],
)
def test_subjects_are_read_from_params_body_or_top_level(
    request_json: dict[str, Any], regions: list[int], stores: list[int]
) -> None:
    """Ids come from an ActionRequest's params, a PDRequest's body or the top level; booleans are not ids."""
    assert subjects(request_json) == (regions, stores)


async def test_the_row_keeps_its_first_region_and_store_in_columns(
    store: SqliteProposalStore, db_path: str
) -> None:
    """region_id / store_id columns hold the first id of each kind, for people reading the table with SQL."""
    await store.log_entry(b.entry({"region_id": 5, "from_store_id": 1, "to_store_id": 4}, proposal_id=3))
    with closing(sqlite3.connect(db_path)) as conn:
        row = conn.execute("SELECT region_id, store_id, caller_id FROM action_log").fetchone()
    assert row == (5, 4, "tikv-chatops/3")


async def test_audit_rows_cannot_be_deleted_or_rewritten(store: SqliteProposalStore, db_path: str) -> None:
    """The schema refuses deleting a row or changing anything but its result."""
    await store.log_entry(b.entry({"store_id": 1}))
    with closing(sqlite3.connect(db_path)) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM action_log")
        with pytest.raises(sqlite3.IntegrityError, match="only result_json and executed_at"):
            conn.execute("UPDATE action_log SET actor = 'someone else'")
        with pytest.raises(sqlite3.IntegrityError, match="hash of an action_log row is written once"):
            conn.execute("UPDATE action_log SET row_hash = 'x'")
        # A note's result is part of its hash; only a PD write's row gets its result later.
        with pytest.raises(sqlite3.IntegrityError, match="written once"):
            conn.execute("UPDATE action_log SET result_json = '{}'")


@pytest.mark.parametrize(
    ("query", "search"),
    [
        (AuditQuery(region_id=1), "SEARCH r USING PRIMARY KEY (region_id=?)"),
        (AuditQuery(store_id=1), "SEARCH s USING PRIMARY KEY (store_id=?)"),
        (AuditQuery(ticket_id=1), "SEARCH a USING INDEX action_log_by_ticket (ticket_id=?)"),
        (AuditQuery(proposal_id=1), "SEARCH a USING INDEX action_log_by_proposal (proposal_id=?)"),
        (AuditQuery(region_id=1, ticket_id=2), "SEARCH r USING PRIMARY KEY (region_id=?)"),
        (AuditQuery(store_id=1, ticket_id=2), "SEARCH a USING INDEX action_log_by_ticket (ticket_id=?)"),
        (
            AuditQuery(store_id=1, proposal_id=2),
            "SEARCH a USING INDEX action_log_by_proposal (proposal_id=?)",
        ),
        (
            AuditQuery(region_id=1, proposal_id=2),
            "SEARCH a USING INDEX action_log_by_proposal (proposal_id=?)",
        ),
    ],
)
@pytest.mark.sqlite_only(reason="reads SQLite's query plans")
async def test_audit_queries_read_an_index_without_sorting(
    store: SqliteProposalStore, query: AuditQuery, search: str
) -> None:
    """Each filtered query starts with an index search in id order: no scan of the log, no sort step."""

    def plan(conn: sqlite3.Connection) -> list[str]:
        sql, params = audit.build_query(query)
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]

    steps = await store._db.run("explain an audit query", plan)
    assert steps[0] == search
    assert all(not step.startswith("SCAN") and "TEMP B-TREE" not in step for step in steps), steps


async def test_query_limit_must_be_positive(store: SqliteProposalStore) -> None:
    """A limit below one is a caller's bug (SQLite would read LIMIT -1 as 'everything')."""
    with pytest.raises(ValueError, match="limit must be at least 1"):
        await store.query_audit(AuditQuery(limit=0))


async def test_an_id_sqlite_cannot_hold_is_kept_but_not_indexed(store: SqliteProposalStore) -> None:
    """A dry-run of a fuzzed 20-digit region id is still recorded (the id stays in its JSON)."""
    huge = 99_999_999_999_999_999_999
    log_id = await store.log_entry(b.entry({"region_id": huge, "store_id": 3}, dry_run=True))
    (row,) = await store.query_audit(AuditQuery(store_id=3))
    assert row.id == log_id and row.request_json["params"]["region_id"] == huge
    assert (await store.verify_audit()).ok
