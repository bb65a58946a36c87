"""Audit export (JSONL and CSV, streamed, readable columns, hashes) and its CLI, which reads
TIKV_CHATOPS_DB like the bot."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import store_builders as b

from actions.models import AuditEntry, Decision
from bot import cli
from store import export
from store.sqlite import SqliteProposalStore


def _awkward_entries() -> list[AuditEntry]:
    plain = b.entry({"region_id": 12, "to_store_id": 3}, proposal_id=1, ticket_id=2)
    awkward = b.entry(
        {"key": 'a,"b"\nc', "name": "ünïcode ✓"},
        action="set-config",
        actor="U0ÉLISE",
        dry_run=True,
        created_at=b.T0 + timedelta(minutes=1),
    ).model_copy(update={"result_json": {"blocked": False, "checks": [{"data": [1, 2.5, None, True]}]}})
    late = b.entry({"store_id": 9}, created_at=b.T0 + timedelta(hours=1))
    return [plain, awkward, late]


async def _seed(store: SqliteProposalStore) -> None:
    for entry in _awkward_entries():
        await store.log_entry(entry)
    await store.remember_actor("U0ÉLISE", "Élise", now=b.T0)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_an_export_has_readable_columns_and_verifies_on_its_own(
    store: SqliteProposalStore, db_path: str, tmp_path: Path, fmt: export.Format
) -> None:
    await _seed(store)
    out = tmp_path / f"audit.{fmt}"
    assert cli.main(["audit", "export", "--db", db_path, "--format", fmt, "--output", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as src:
        records = list(export.read(fmt, src))
    assert [r["id"] for r in records] == [1, 2, 3]
    awkward = records[1]
    assert (awkward["actor"], awkward["actor_name"], awkward["event"], awkward["outcome"]) == (
        "U0ÉLISE",
        "Élise",
        "dry_run",
        "would pass",
    )
    assert awkward["time"] == "2026-11-28T12:01:00.000000Z"
    assert awkward["summary"].startswith("dry-run of set-config")
    assert awkward["request"]["params"]["key"] == 'a,"b"\nc'
    assert all(r["hash"] and len(r["hash"]) == 64 for r in records)
    assert export.verify_file(str(out)).ok
    assert cli.main(["audit", "verify", "--file", str(out)]) == 0


async def test_export_reads_tikv_chatops_db_and_filters(
    store: SqliteProposalStore,
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No --db: the bot's TIKV_CHATOPS_DB; --since/--until/--proposal narrow the rows."""
    await _seed(store)
    monkeypatch.setenv("TIKV_CHATOPS_DB", db_path)
    assert cli.main(["audit", "export", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",")[:6] == ["id", "time", "actor", "actor_name", "event", "summary"]
    assert cli.main(["audit", "export", "--since", "2026-11-28T12:00:30", "--until", "2026-11-28T12:30"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [2]
    assert cli.main(["audit", "export", "--proposal", "1"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [1]


def test_export_without_a_database_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIKV_CHATOPS_DB", str(tmp_path / "missing.db"))
    assert cli.main(["audit", "export"]) == 1
    assert "missing.db" in capsys.readouterr().err


async def test_a_proposals_life_is_one_timeline(store: SqliteProposalStore, db_path: str) -> None:
    """Creation, an edit with its diff, approvals, the PD request and response, the result, a rejection
    with its reason and an expiry are rows of the one audit stream, in order."""
    proposal = await b.pending(store, required=2)
    await store.add_approval(b.approval(proposal, "U0FIRST"), required=2)
    edited = await store.revise(
        proposal.id,
        expected_revision=1,
        request=proposal.request.model_copy(update={"params": {"region_id": 12, "to_store_id": 4}}),
        preflight=proposal.preflight,  # type: ignore[arg-type]
        expires_at=b.T0 + timedelta(hours=1),
        actor="U0EDITOR",
        now=b.T0 + timedelta(minutes=1),
    )
    assert edited is not None
    await store.add_approval(b.approval(edited, "U0A"), required=2)
    await store.add_approval(b.approval(edited, "U0B"), required=2)
    log_id = await store.claim_for_execution(proposal.id, intent=b.entry(proposal_id=proposal.id), now=b.T0)
    assert log_id is not None
    await store.finish_execution(proposal.id, log_id=log_id, result=b.result(), now=b.T0)
    await store.update_result(proposal.id, log_id=log_id, result=b.result())
    rejected = await b.pending(store)
    assert await store.reject(b.approval(rejected, "U0BOB", decision=Decision.REJECT))
    expiring = await b.pending(store)
    await store.expire_due(now=b.T0 + timedelta(days=1))

    conn = export.connect_read_only(db_path)
    try:
        life = list(export.rows(conn, export.Filters(proposal_id=proposal.id)))
        last_event = {r["proposal"]: (r["event"], r["summary"]) for r in export.rows(conn)}
    finally:
        conn.close()
    assert [r["event"] for r in life] == [
        "created",
        "approval",
        "edited",
        "approval",
        "approval",
        "approved",
        "pd_request",
        "pd_response",
        "result",
    ]
    assert "from a slash command" in life[0]["summary"]
    assert life[2]["request"]["diff"] == {"to_store_id": [3, 4]}
    assert "edited by U0EDITOR" in life[2]["summary"] and "to_store_id 3 → 4" in life[2]["summary"]
    assert "X-Caller-ID tikv-chatops/1" in life[7]["summary"] and life[7]["outcome"] == "succeeded"
    assert last_event[rejected.id] == ("rejected", f"#{rejected.id} rejected by U0BOB: looks wrong")
    assert last_event[expiring.id][0] == "expired"
    assert (await store.verify_audit()).ok


def test_write_streams_records(tmp_path: Path) -> None:
    out = io.StringIO()
    records = ({"hash": str(i), **{f: None for f in export.FIELDS if f != "hash"}} for i in range(5))
    assert export.write(records, "jsonl", out) == (5, "4")
