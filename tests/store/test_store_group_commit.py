"""Group commit of audit appends: concurrent callers share commits, each still gets its own outcome."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from typing import Any

import pytest
import store_builders as b

from actions.ports import AuditQuery
from store import audit
from store.errors import StoreError
from store.sqlite import SqliteProposalStore


async def test_concurrent_appends_share_commits_and_are_all_durable_on_return(
    store: SqliteProposalStore, db_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 appends at once: every caller gets its own id, fewer transactions than rows are committed,
    and each row is visible to another connection as soon as its caller returned."""
    batches: list[int] = []
    real = audit.append_many

    def counting(conn: sqlite3.Connection, rows: list[audit.PreparedRow]) -> list[int]:
        batches.append(len(rows))
        return real(conn, rows)

    monkeypatch.setattr(audit, "append_many", counting)
    ids = await asyncio.gather(*(store.log_entry(b.entry(actor=f"U{i}")) for i in range(200)))
    assert len(set(ids)) == 200
    assert sum(batches) == 200 and len(batches) < 10  # a handful of shared commits, not 200
    with closing(sqlite3.connect(db_path)) as other:
        rows = dict(other.execute("SELECT id, actor FROM action_log").fetchall())
    assert {rows[log_id] for log_id in ids} == {f"U{i}" for i in range(200)}


@pytest.mark.sqlite_only(reason="patches the SQLite append functions")
async def test_a_lone_append_is_committed_alone(
    store: SqliteProposalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One caller at a time never waits for company: no batch transaction is used."""
    batches: list[int] = []
    monkeypatch.setattr(audit, "append_many", lambda *_a: batches.append(1) or [])
    first = await store.log_entry(b.entry(actor="U1"))
    second = await store.log_entry(b.entry(actor="U2"))
    assert second > first and batches == []


@pytest.mark.sqlite_only(reason="patches the SQLite append functions")
async def test_a_bad_row_fails_only_its_own_caller(
    store: SqliteProposalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row the database refuses inside a shared transaction: the others are retried alone and
    stored; only the bad row's caller gets the error; nothing half-written remains."""
    real = audit.insert

    def picky(conn: sqlite3.Connection, row: Any) -> int:
        log_id = real(conn, row)
        if conn.execute("SELECT actor FROM action_log WHERE id = ?", (log_id,)).fetchone()[0] == "UBAD":
            raise StoreError("refused")
        return log_id

    monkeypatch.setattr(audit, "insert", picky)
    actors = ["U1", "U2", "UBAD", "U3", "U4"]
    outcomes = await asyncio.gather(
        *(store.log_entry(b.entry(actor=actor)) for actor in actors), return_exceptions=True
    )
    failed = [a for a, outcome in zip(actors, outcomes, strict=True) if isinstance(outcome, Exception)]
    assert failed == ["UBAD"]
    stored = {e.actor for e in await store.query_audit(AuditQuery(limit=50))}
    assert stored == {"U1", "U2", "U3", "U4"}


async def test_closing_waits_for_rows_already_handed_in(db_path: str) -> None:
    """Appends made before aclose() all become durable: the store closes after the queued rows."""
    from store.sqlite import open_store

    store = await open_store(db_path)
    appends = [asyncio.create_task(store.log_entry(b.entry(actor=f"U{i}"))) for i in range(10)]
    await asyncio.sleep(0)  # every append has handed its row in
    await store.aclose()
    ids = await asyncio.gather(*appends)
    with closing(sqlite3.connect(db_path)) as other:
        assert other.execute("SELECT COUNT(*) FROM action_log").fetchone()[0] == len(set(ids)) == 10


@pytest.mark.sqlite_only(reason="patches the SQLite append functions")
async def test_a_locked_database_fails_a_batch_at_once_without_retrying_each_row(
    store: SqliteProposalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """StorageUnavailable for the shared transaction is every caller's answer: rows are not retried one
    by one (each would wait the busy timeout again)."""
    from store.errors import StoreUnavailable

    singles: list[int] = []

    def locked(*_args: object) -> list[int]:
        raise StoreUnavailable("the database is locked")

    monkeypatch.setattr(audit, "append_many", locked)
    monkeypatch.setattr(audit, "append", lambda *_a: singles.append(1) or 1)
    await store.log_entry(b.entry(actor="U0"))  # a lone row goes alone
    singles.clear()
    outcomes = await asyncio.gather(
        *(store.log_entry(b.entry(actor=f"U{i}")) for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, StoreUnavailable) for o in outcomes) and singles == []
