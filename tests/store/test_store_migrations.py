"""Versioned migrations: applied in order, once, atomically, and never silently out of step."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.errors import MigrationError
from store.migrate import Migration, apply_migrations, load_migrations, statements
from store.sqlite import open_store


def _raw(path: Path | str) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _write(directory: Path, files: dict[str, str]) -> list[Migration]:
    directory.mkdir(exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return load_migrations(directory)


def _versions(conn: sqlite3.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


async def test_reopening_a_database_applies_nothing_twice(db_path: str) -> None:
    """The first open applies every migration and records it; later opens leave schema_migrations
    untouched."""
    first = await open_store(db_path)
    await first.aclose()
    with closing(_raw(db_path)) as conn:
        recorded = conn.execute(
            "SELECT version, name, checksum, applied_at FROM schema_migrations"
        ).fetchall()
    for _ in range(2):
        again = await open_store(db_path)
        await again.aclose()
    with closing(_raw(db_path)) as conn:
        assert (
            conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations").fetchall()
            == recorded
        )
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert [r[:2] for r in recorded][:3] == [(1, "initial"), (2, "slack_outbox"), (3, "accountable_edits")]
    assert (4, "audit_chain") in [r[:2] for r in recorded]
    assert {
        "tickets",
        "proposals",
        "approvals",
        "events",
        "action_log",
        "slack_outbox",
        "schema_migrations",
        "audit_head",
        "actor_names",
    } <= tables


async def test_two_processes_opening_a_new_database_migrate_it_once(db_path: str) -> None:
    """Concurrent first opens (two connections) both succeed and each migration is recorded once."""
    stores = await asyncio.gather(open_store(db_path), open_store(db_path))
    for opened in stores:
        await opened.aclose()
    with closing(_raw(db_path)) as conn:
        assert _versions(conn) == [m.version for m in load_migrations()]


def test_migrations_apply_in_order_and_only_the_new_ones(tmp_path: Path) -> None:
    """Versions apply in order; adding a file later applies just that file."""
    migrations = tmp_path / "migrations"
    known = _write(
        migrations,
        {
            "0002_add_note.sql": "ALTER TABLE t ADD COLUMN note TEXT;",
            "0001_create.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY);",
        },
    )
    conn = _raw(tmp_path / "x.db")
    assert apply_migrations(conn, known) == [1, 2]
    known = _write(migrations, {"0003_fill.sql": "INSERT INTO t (note) VALUES ('three');"})
    assert apply_migrations(conn, known) == [3]
    assert apply_migrations(conn, known) == []
    assert _versions(conn) == [1, 2, 3]
    assert conn.execute("SELECT note FROM t").fetchall() == [("three",)]
    conn.close()


def test_a_failing_migration_is_rolled_back_entirely(tmp_path: Path) -> None:
    """A migration that fails part-way leaves none of its statements and no version row behind."""
    migrations = tmp_path / "migrations"
    known = _write(migrations, {"0001_create.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY);"})
    conn = _raw(tmp_path / "x.db")
    apply_migrations(conn, known)
    known = _write(
        migrations,
        {"0002_broken.sql": "CREATE TABLE half (id INTEGER);\nINSERT INTO missing_table VALUES (1);\n"},
    )
    with pytest.raises(MigrationError, match=r"0002_broken failed at statement 2.*still at schema version 1"):
        apply_migrations(conn, known)
    assert _versions(conn) == [1]
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    assert not conn.in_transaction
    conn.close()


def test_an_applied_migration_that_was_edited_is_refused(tmp_path: Path) -> None:
    """Changing a migration after it ran is caught by its checksum before anything else is applied."""
    migrations = tmp_path / "migrations"
    conn = _raw(tmp_path / "x.db")
    apply_migrations(
        conn, _write(migrations, {"0001_create.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY);"})
    )
    edited = _write(
        migrations,
        {
            "0001_create.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);",
            "0002_more.sql": "CREATE TABLE u (a);",
        },
    )
    with pytest.raises(MigrationError, match="0001_create was edited after it was applied"):
        apply_migrations(conn, edited)
    assert _versions(conn) == [1]
    conn.close()


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    """A database migrated by a newer release is not opened by an older one."""
    migrations = tmp_path / "migrations"
    conn = _raw(tmp_path / "x.db")
    both = _write(migrations, {"0001_a.sql": "CREATE TABLE a (x);", "0002_b.sql": "CREATE TABLE b (x);"})
    apply_migrations(conn, both)
    with pytest.raises(MigrationError, match="schema version 2 but this code knows versions up to 1"):
        apply_migrations(conn, both[:1])
    conn.close()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 1;"}, "without gaps"),
        ({"1_a.sql": "SELECT 1;"}, "is not named NNNN_lowercase_name.sql"),
        ({"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"}, "two migration files have version 0001"),
    ],
)
def test_malformed_migration_sets_are_refused(tmp_path: Path, files: dict[str, str], message: str) -> None:
    """Gaps, duplicate versions and badly named files fail loudly at load."""
    with pytest.raises(MigrationError, match=message):
        _write(tmp_path / "migrations", files)


def test_statements_keep_triggers_whole() -> None:
    """Splitting 0001 yields each CREATE as one statement, triggers with their BEGIN … END bodies."""
    initial = load_migrations()[0]
    parts = list(statements(initial.sql))
    triggers = [p for p in parts if "CREATE TRIGGER" in p]
    assert len(triggers) == 4
    assert all(p.rstrip().endswith("END;") for p in triggers)
    assert all(sqlite3.complete_statement(p) for p in parts)


def test_an_incomplete_final_statement_is_refused() -> None:
    """A migration whose last statement lacks its semicolon is refused rather than dropped."""
    with pytest.raises(MigrationError, match="incomplete statement"):
        list(statements("CREATE TABLE a (x);\nCREATE TABLE b (x)"))


async def test_read_only_open_refuses_a_database_that_needs_migrating(tmp_path: Path) -> None:
    """A read-only open never migrates: an unmigrated file is refused with what to do."""
    path = tmp_path / "old.db"
    _raw(path).close()
    with pytest.raises(MigrationError, match="needs migration 0001_initial"):
        await open_store(str(path), read_only=True)
    with closing(_raw(path)) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_applied_at_records_when_each_migration_ran(tmp_path: Path) -> None:
    """schema_migrations keeps each version's name, checksum and the time it was applied."""
    known = _write(tmp_path / "migrations", {"0001_a.sql": "CREATE TABLE a (x);"})
    conn = _raw(tmp_path / "x.db")
    apply_migrations(conn, known, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert conn.execute("SELECT name, checksum, applied_at FROM schema_migrations").fetchone() == (
        "a",
        known[0].checksum,
        "2026-01-02T03:04:05.000000Z",
    )
    conn.close()
