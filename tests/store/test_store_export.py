"""Audit export: JSONL and CSV that read back to the same entries, streamed, and its CLI entry."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path

import pytest
import store_builders as b

from actions.models import AuditEntry
from actions.ports import AuditQuery
from store.export import FIELDS, Format, export_audit, export_main, read_audit
from store.sqlite import SqliteProposalStore, connect_store


def _awkward_entries() -> list[AuditEntry]:
    """Rows that stress both formats: None fields, commas, quotes, newlines, unicode, nested JSON."""
    plain = b.entry({"region_id": 12, "to_store_id": 3}, proposal_id=1, ticket_id=2)
    awkward = b.entry(
        {"key": 'a,"b"\nc', "name": "ünïcode ✓"},
        action="set-config",
        actor="U0ÉLISE",
        dry_run=True,
        created_at=b.T0 + timedelta(minutes=1),
    ).model_copy(
        update={
            "result_json": {"checks": [{"name": "x", "data": {"nested": [1, 2.5, None, True]}}]},
            "approval_json": [],
            "executed_at": b.T0 + timedelta(minutes=1, microseconds=5),
        }
    )
    late = b.entry({"store_id": 9}, created_at=b.T0 + timedelta(hours=1))
    return [plain, awkward, late]


async def _seed(store: SqliteProposalStore, entries: list[AuditEntry]) -> list[AuditEntry]:
    ids = [await store.log_entry(e) for e in entries]
    return [e.model_copy(update={"id": i}) for e, i in zip(entries, ids, strict=True)]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_an_export_reads_back_to_the_same_entries(store: SqliteProposalStore, fmt: Format) -> None:
    """Every row, oldest first, reads back equal to what query_audit returns."""
    stored = await _seed(store, _awkward_entries())
    out = io.StringIO(newline="")
    assert await export_audit(store, fmt, out) == 3
    out.seek(0)
    assert list(read_audit(fmt, out)) == stored
    assert list(reversed(await store.query_audit(AuditQuery()))) == stored


async def test_csv_has_one_column_per_audit_field(store: SqliteProposalStore) -> None:
    """The CSV header is AuditEntry's fields in order; None is an empty cell and JSON stays JSON."""
    await _seed(store, _awkward_entries()[:1])
    out = io.StringIO(newline="")
    await export_audit(store, "csv", out)
    header, row = out.getvalue().splitlines()[:2]
    assert header.split(",") == list(FIELDS)
    assert row.startswith("1,1,2,U0APPROVER,transfer-leader,false,")
    assert '"{""action"":""transfer-leader"",""params"":{""region_id"":12,""to_store_id"":3}}"' in row
    assert row.endswith(",,tikv-chatops/1,2026-11-28T12:00:00Z,")


async def test_since_keeps_rows_created_at_or_after_it(store: SqliteProposalStore) -> None:
    """--since filters on created_at, inclusive."""
    stored = await _seed(store, _awkward_entries())
    out = io.StringIO()
    assert await export_audit(store, "jsonl", out, since=b.T0 + timedelta(minutes=1)) == 2
    out.seek(0)
    assert list(read_audit("jsonl", out)) == stored[1:]


async def test_the_export_is_read_in_pages_not_all_at_once(store: SqliteProposalStore) -> None:
    """iter_audit reads batch by batch: a row appended while the export runs is still reached."""
    await _seed(store, [b.entry(actor=f"U{i}") for i in range(5)])
    seen: list[str] = []
    async for entry in store.iter_audit(batch_size=2):
        seen.append(entry.actor)
        if len(seen) == 1:
            await store.log_entry(b.entry(actor="U-late"))
    assert seen == ["U0", "U1", "U2", "U3", "U4", "U-late"]


def _seeded_file(tmp_path: Path) -> tuple[str, list[AuditEntry]]:
    path = str(tmp_path / "chatops.db")

    async def seed() -> list[AuditEntry]:
        async with connect_store(path) as store:
            return await _seed(store, _awkward_entries())

    return path, asyncio.run(seed())


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_main_writes_the_file_and_exits_zero(
    tmp_path: Path, fmt: Format, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tikv-chatops audit export --db … --format … --output …` writes the export and says how many rows."""
    db, stored = _seeded_file(tmp_path)
    output = tmp_path / f"audit.{fmt}"
    assert export_main(["--db", db, "--format", fmt, "--output", str(output)]) == 0
    with output.open(newline="", encoding="utf-8") as src:
        assert list(read_audit(fmt, src)) == stored
    assert f"exported 3 audit rows to {output}" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_main_writes_jsonl_to_stdout_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --format and --output, JSON Lines go to standard output; --since is ISO-8601, UTC if naive."""
    db, stored = _seeded_file(tmp_path)
    assert export_main(["--db", db, "--since", "2026-11-28T12:30:00"]) == 0
    assert list(read_audit("jsonl", io.StringIO(capsys.readouterr().out))) == stored[2:]


def test_export_main_reports_a_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong --db path is exit 1 with a message, and no database is created there."""
    missing = tmp_path / "nope.db"
    assert export_main(["--db", str(missing)]) == 1
    assert f"no database at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_export_main_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown formats and unparsable --since are usage errors (exit 2); --help is exit 0."""
    assert export_main(["--db", "x.db", "--format", "xml"]) == 2
    assert export_main(["--db", "x.db", "--since", "yesterday"]) == 2
    assert "not an ISO-8601 time" in capsys.readouterr().err
    assert export_main(["--help"]) == 0
    assert "tikv-chatops audit export" in capsys.readouterr().out


def test_a_failed_export_leaves_no_partial_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An export that fails (here: an unmigrated database) exits 1 and leaves no output file behind."""
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    output = tmp_path / "audit.jsonl"
    assert export_main(["--db", str(empty), "--output", str(output)]) == 1
    assert "needs migration 0001_initial" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
