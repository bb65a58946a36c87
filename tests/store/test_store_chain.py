"""The audit log's hash chain: `audit verify` passes on an untouched database and names the row that
was altered, deleted or inserted out of order; pruning leaves an anchor that keeps it verifiable."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import store_builders as b

from actions.ports import AuditQuery
from bot import cli
from store import export
from store.sqlite import SqliteProposalStore, open_store


async def _five_rows(store: SqliteProposalStore) -> None:
    for minute in range(5):
        await store.log_entry(b.entry({"region_id": minute}, created_at=b.T0 + timedelta(minutes=minute)))


def _verify(db_path: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["audit", "verify", "--db", db_path])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def test_an_untouched_database_verifies(
    store: SqliteProposalStore, db_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _five_rows(store)
    await b.approved(store)
    code, said = _verify(db_path, capsys)
    assert code == 0, said
    assert "chain intact" in said


async def test_altering_one_rows_text_is_named(
    store: SqliteProposalStore, db_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _five_rows(store)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("DROP TRIGGER action_log_written_once")
        conn.execute("UPDATE action_log SET actor = 'U0MALLORY' WHERE id = 3")
        conn.commit()
    code, said = _verify(db_path, capsys)
    assert code == 1
    assert "row 3 was altered" in said


async def test_altering_a_rows_json_is_named(
    store: SqliteProposalStore, db_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _five_rows(store)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("DROP TRIGGER action_log_written_once")
        conn.execute(
            """UPDATE action_log SET request_json = replace(request_json, '"region_id":1', '"region_id":9')"""
        )
        conn.commit()
    code, said = _verify(db_path, capsys)
    assert code == 1 and "row 2 was altered" in said


async def test_deleting_a_row_is_named(
    store: SqliteProposalStore, db_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _five_rows(store)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("DROP TRIGGER action_log_no_delete")
        conn.execute("DELETE FROM action_log WHERE id = 2")
        conn.commit()
    code, said = _verify(db_path, capsys)
    assert code == 1 and "row 2 is missing" in said


async def test_deleting_the_newest_row_is_named(
    store: SqliteProposalStore, db_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _five_rows(store)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("DROP TRIGGER action_log_no_delete")
        conn.execute("DELETE FROM action_log WHERE id = 5")
        conn.commit()
    code, said = _verify(db_path, capsys)
    assert code == 1 and "rows 5–5 are missing" in said


async def test_a_row_inserted_out_of_order_is_named(
    store: SqliteProposalStore, db_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Swapping two rows' content (each keeping its hash) breaks the chain at the first of them."""
    await _five_rows(store)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("DROP TRIGGER action_log_written_once")
        conn.execute("DROP TRIGGER action_log_hashed_once")
        two = conn.execute("SELECT prev_hash, row_hash FROM action_log WHERE id = 2").fetchone()
        three = conn.execute("SELECT prev_hash, row_hash FROM action_log WHERE id = 3").fetchone()
        conn.execute("UPDATE action_log SET prev_hash = ?, row_hash = ? WHERE id = 2", three)
        conn.execute("UPDATE action_log SET prev_hash = ?, row_hash = ? WHERE id = 3", two)
        conn.commit()
    code, said = _verify(db_path, capsys)
    assert code == 1 and "row 2 does not follow" in said


async def test_concurrent_appends_chain_in_commit_order(store: SqliteProposalStore) -> None:
    """Rows committed together by the group commit still form one intact chain."""
    await asyncio.gather(*(store.log_entry(b.entry({"store_id": i})) for i in range(200)))
    verdict = await store.verify_audit()
    assert verdict.ok and verdict.rows == 200


async def test_rows_from_before_the_chain_are_hashed_at_open(db_path: str) -> None:
    store = await open_store(db_path)
    await _five_rows(store)
    await store.aclose()
    with closing(sqlite3.connect(db_path)) as conn:  # as if written before migration 0004
        conn.execute("DROP TRIGGER action_log_hashed_once")
        conn.execute("UPDATE action_log SET prev_hash = NULL, row_hash = NULL")
        conn.execute("DELETE FROM audit_head")
        conn.commit()
    reopened = await open_store(db_path)
    try:
        verdict = await reopened.verify_audit()
    finally:
        await reopened.aclose()
    assert verdict.ok and verdict.rows == 5


async def test_prune_exports_removes_and_leaves_an_anchor(
    store: SqliteProposalStore, db_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _five_rows(store)
    before = (b.T0 + timedelta(minutes=3)).isoformat()
    pruned = tmp_path / "old.csv"
    assert cli.main(["audit", "prune", "--db", db_path, "--before", before, "--export", str(pruned)]) == 0
    assert export.verify_file(str(pruned)).ok
    with pruned.open(encoding="utf-8", newline="") as src:
        assert [r["id"] for r in export.read("csv", src)] == [1, 2, 3]
    await store.log_entry(b.entry({"region_id": 99}, created_at=datetime.now(b.T0.tzinfo)))
    code, said = _verify(db_path, capsys)
    assert code == 0, said
    with closing(sqlite3.connect(db_path)) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM action_log ORDER BY id")]
        anchor = conn.execute("SELECT event, row_hash FROM action_log WHERE id = 3").fetchone()
    assert ids == [3, 4, 5, 6]
    assert anchor[0] == "anchor"
    # Pruning again, later, continues from the anchor; the second file verifies from its anchor too.
    again = tmp_path / "older.jsonl"
    later = (b.T0 + timedelta(minutes=10)).isoformat()
    assert cli.main(["audit", "prune", "--db", db_path, "--before", later, "--export", str(again)]) == 0
    assert export.verify_file(str(again)).ok
    code, said = _verify(db_path, capsys)
    assert code == 0, said


async def test_a_database_from_before_the_chain_is_upgraded_in_place(db_path: str) -> None:
    """Rows written under schema 2 get an event, a summary and hashes at the first open; an execution
    that was in flight can still have its result filled in."""
    from store.migrate import apply_migrations, load_migrations

    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        apply_migrations(conn, load_migrations()[:2])
        insert = (
            "INSERT INTO action_log (proposal_id, actor, action, dry_run, caller_id, request_json,"
            " result_json, created_at, executed_at) VALUES (?, ?, 'transfer-leader', ?, ?, ?, ?, ?, ?)"
        )
        at = "2026-11-28T12:00:00.000000Z"
        request = '{"action":"transfer-leader","params":{"region_id":12,"to_store_id":3}}'
        conn.execute(insert, (None, "U0ALICE", 1, "", request, '{"blocked":false}', at, at))
        conn.execute(insert, (7, "U0BOB", 0, "tikv-chatops/7", request, None, at, None))
    store = await open_store(db_path)
    try:
        verdict = await store.verify_audit()
        rows = await store.query_audit(AuditQuery())
    finally:
        await store.aclose()
    assert verdict.ok and verdict.rows == 2
    assert [(r.event, r.summary.split(":")[0]) for r in rows] == [
        ("pd_request", "about to send transfer-leader region_id=12 to_store_id=3 to PD"),
        ("dry_run", "dry-run of transfer-leader region_id=12 to_store_id=3"),
    ]
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute('UPDATE action_log SET result_json = \'{"state":"succeeded"}\' WHERE id = 2')
        conn.commit()
        with pytest.raises(sqlite3.IntegrityError, match="written once"):
            conn.execute("UPDATE action_log SET result_json = '{}' WHERE id = 1")
    reopened = await open_store(db_path)
    try:
        assert (await reopened.verify_audit()).ok
    finally:
        await reopened.aclose()
