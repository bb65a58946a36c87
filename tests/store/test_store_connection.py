"""The connection: durable settings, failures that write nothing, cancellation, closing."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import store_builders as b

from actions.models import ActionType, ProposalState
from actions.ports import AuditQuery
from store.errors import StoreError, StoreUnavailable
from store.sqlite import SqliteProposalStore, connect_store, open_store

ROOT = Path(__file__).resolve().parents[2]


def _pragmas(conn: sqlite3.Connection) -> dict[str, Any]:
    return {
        name: conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }


def _counts(path: str) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("proposals", "approvals", "events", "action_log", "action_log_stores")
        }


async def test_a_file_store_runs_wal_full_sync_foreign_keys_and_busy_timeout(db_path: str) -> None:
    """The store's own connection runs WAL, synchronous=FULL (2), foreign keys and its busy timeout."""
    opened = await open_store(db_path, busy_timeout=1.5)
    try:
        pragmas = await opened._db.run("read pragmas", _pragmas)
    finally:
        await opened.aclose()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 1500}


async def test_an_in_memory_store_works_end_to_end(mem_store: SqliteProposalStore) -> None:
    """ ":memory:" gives a full, migrated store (for tests and the playground)."""
    proposal = await b.approved(mem_store)
    log_id = await mem_store.claim_for_execution(proposal.id, intent=b.entry(), now=b.T0)
    assert log_id is not None
    assert await mem_store.finish_execution(proposal.id, log_id=log_id, result=b.result(), now=b.T0)
    assert [e.id for e in b.intents(await mem_store.query_audit(AuditQuery()))] == [log_id]


async def test_a_locked_database_raises_store_unavailable_and_writes_nothing(db_path: str) -> None:
    """Another connection holding the write lock past the busy timeout: StoreUnavailable, nothing written,
    and the store works again once the lock is gone."""
    store = await open_store(db_path, busy_timeout=0.05)
    proposal = await b.pending(store)
    before = _counts(db_path)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await store.add_approval(b.approval(proposal, "U0ALICE"), required=1)
        with pytest.raises(StoreUnavailable):
            await store.log_entry(b.entry({"store_id": 4}))
        # WAL: readers are not blocked by the writer.
        still = await store.get_proposal(proposal.id)
    finally:
        other.execute("ROLLBACK")
        other.close()
    message = str(caught.value)
    assert "locked by another connection past the 0.05 s busy timeout" in message
    assert "nothing was half-written" in message
    assert still is not None and still.state is ProposalState.PENDING
    assert _counts(db_path) == before
    assert await store.add_approval(b.approval(proposal, "U0ALICE"), required=1) == "approved"
    await store.aclose()


async def test_a_full_disk_mid_transaction_rolls_back_the_whole_claim(db_path: str) -> None:
    """The claim's UPDATE succeeds, then its audit row hits a full disk: StoreUnavailable, and the proposal
    is still approved with no audit row and no event (nothing half-written)."""
    store = await open_store(db_path)
    proposal = await b.approved(store)
    before = _counts(db_path)

    def cap_size(conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 1}")

    await store._db.run("cap the database size", cap_size)
    huge = b.entry(request_json={"action": "transfer-leader", "blob": "x" * 200_000})
    with pytest.raises(StoreUnavailable, match=r"full.*nothing was half-written"):
        await store.claim_for_execution(proposal.id, intent=huge, now=b.T0)
    after = await store.get_proposal(proposal.id)
    assert after is not None and after.state is ProposalState.APPROVED
    assert _counts(db_path) == before
    await store.aclose()


async def test_a_refused_statement_raises_store_error_and_writes_nothing(
    store: SqliteProposalStore, db_path: str
) -> None:
    """A proposal naming a missing ticket breaks the foreign key: StoreError, no proposal, no event."""
    with pytest.raises(
        StoreError, match=r"FOREIGN KEY constraint failed.*nothing was half-written"
    ) as caught:
        await b.pending(store, req=b.request(ticket_id=999))
    assert not isinstance(caught.value, StoreUnavailable)
    assert _counts(db_path)["proposals"] == 0
    assert _counts(db_path)["events"] == 0


async def test_an_acknowledged_append_survives_a_hard_exit(db_path: str) -> None:
    """A row whose log_entry returned is in the file even if the process dies without closing the store."""
    script = f"""
import asyncio, os, sys
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
import store_builders as b
from store.sqlite import open_store
async def main():
    store = await open_store({db_path!r})
    log_id = await store.log_entry(b.entry({{"store_id": 7}}, actor="U0CRASH"))
    print(log_id, flush=True)
    os._exit(0)  # no close, no checkpoint
asyncio.run(main())
"""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, stderr.decode()
    log_id = int(stdout)
    async with connect_store(db_path) as reopened:
        (found,) = await reopened.query_audit(AuditQuery(store_id=7))
    assert (found.id, found.actor) == (log_id, "U0CRASH")


async def test_cancelled_callers_never_leave_a_transaction_open(
    store: SqliteProposalStore, db_path: str
) -> None:
    """Cancelled callers leave every row whole (each with its store reference) and the store usable."""
    tasks = [asyncio.create_task(store.log_entry(b.entry({"store_id": 5}))) for _ in range(40)]
    await asyncio.sleep(0)
    for task in tasks[::2]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert await store.log_entry(b.entry({"store_id": 5})) > 0
    counts = _counts(db_path)
    assert counts["action_log"] == counts["action_log_stores"]
    assert 21 <= counts["action_log"] <= 41
    assert len(await store.query_audit(AuditQuery(store_id=5, limit=100))) == counts["action_log"]


async def test_a_closed_store_refuses_calls_and_closing_twice_is_harmless(db_path: str) -> None:
    """After aclose(), every call raises StoreError saying the store is closed."""
    store = await open_store(db_path)
    await store.aclose()
    await store.aclose()
    with pytest.raises(StoreError, match="the store is closed"):
        await store.list_open_tickets()


async def test_connect_store_closes_the_store_on_exit(db_path: str) -> None:
    """The context manager yields an open store and closes it afterwards."""
    async with connect_store(db_path) as store:
        ticket, created = await store.open_ticket(
            key="store-down:4", title="Store 4 down", detail={}, now=b.T0
        )
    assert created
    with pytest.raises(StoreError, match="closed"):
        await store.close_ticket(ticket.id, now=b.T0)


async def test_naive_datetimes_are_refused(store: SqliteProposalStore) -> None:
    """A timestamp without a zone is refused instead of being stored as a guess."""
    with pytest.raises(ValueError, match="no time zone"):
        await b.pending(store, now=datetime(2026, 11, 28, 12, 0))


async def test_opening_an_unreadable_file_raises_store_unavailable(tmp_path: Path) -> None:
    """A file that is not an SQLite database cannot be opened: StoreUnavailable says so."""
    path = tmp_path / "garbage.db"
    path.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(StoreUnavailable, match=r"not an SQLite database|corrupt"):
        await open_store(str(path))


async def test_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    """A read-only store sees the bot's rows and cannot write (StoreUnavailable: read-only), whatever
    characters its path holds."""
    db_path = str(tmp_path / "odd ?#% name.db")
    async with connect_store(db_path) as writer:
        await writer.log_entry(b.entry({"region_id": 9}, action=ActionType.SCATTER_REGION))
        async with connect_store(db_path, read_only=True) as reader:
            assert [e.action for e in await reader.query_audit(AuditQuery(region_id=9))] == ["scatter-region"]
            with pytest.raises(StoreUnavailable, match="read-only"):
                await reader.log_entry(b.entry())
