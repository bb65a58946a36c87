"""Versioned schema migrations: ``store/migrations/NNNN_name.sql``, applied in order at open.

Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with its row in
``schema_migrations`` (version, name, checksum, applied_at), so it is applied entirely or not at
all, and re-opening applies nothing twice. The version is re-read inside the transaction, so two
processes opening one new database at once apply each migration once. These functions take a plain
``sqlite3.Connection``: the store runs them on its connection's worker thread.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.abc import Traversable

from store.codec import to_db_time
from store.errors import MigrationError, is_unavailable

_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: its version, name, SQL text and the SHA-256 of that text."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def load_migrations(directory: Traversable | None = None) -> list[Migration]:
    """The migrations in ``directory`` (default: the package's own), checked and sorted by version."""
    root = directory if directory is not None else resources.files("store.migrations")
    found: dict[int, Migration] = {}
    for entry in root.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_lowercase_name.sql")
        version = int(match["version"])
        if version in found:
            raise MigrationError(f"two migration files have version {version:04d}")
        found[version] = Migration(version, match["name"], entry.read_text(encoding="utf-8"))
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migration versions must run 1, 2, 3… without gaps; found {versions}")
    return [found[v] for v in versions]


def statements(sql: str) -> Iterator[str]:
    """Split a script into complete statements (SQLite's own test, so triggers stay whole)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if _strip_comments(buffer):
                yield buffer.strip()
            buffer = ""
    if _strip_comments(buffer):
        raise MigrationError(f"migration ends with an incomplete statement: {buffer.strip()[:80]!r}")


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines()).strip().strip(";").strip()


def applied(conn: sqlite3.Connection) -> dict[int, str]:
    """Applied versions and their checksums; empty for a database that has never been migrated."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if exists is None:
        return {}
    return {row[0]: row[1] for row in conn.execute("SELECT version, checksum FROM schema_migrations")}


def check(known: Sequence[Migration], done: dict[int, str]) -> list[Migration]:
    """The migrations still to apply; raises when the database and the files disagree."""
    newest = len(known)
    if done and max(done) > newest:
        raise MigrationError(
            f"the database is at schema version {max(done)} but this code knows versions up to {newest}; "
            "run a newer tikv-chatops against it"
        )
    for migration in known:
        checksum = done.get(migration.version)
        if checksum is not None and checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.label} was edited after it was applied to this database; "
                "restore the file and add a new migration instead"
            )
    return [m for m in known if m.version not in done]


def apply_migrations(
    conn: sqlite3.Connection, known: Sequence[Migration], *, now: datetime | None = None
) -> list[int]:
    """Apply every pending migration in order, each in its own transaction; returns the versions applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``): the transactions are explicit.
    """
    conn.execute(_BOOTSTRAP)
    versions: list[int] = []
    for migration in check(known, applied(conn)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the write lock.
            if conn.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            ).fetchone():
                conn.execute("ROLLBACK")
                continue
            for number, statement in enumerate(statements(migration.sql), start=1):
                try:
                    conn.execute(statement)
                except sqlite3.Error as exc:
                    if is_unavailable(exc):
                        raise
                    raise MigrationError(
                        f"migration {migration.label} failed at statement {number} ({exc}); it was rolled "
                        f"back and the database is still at schema version {migration.version - 1}"
                    ) from exc
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                (migration.version, migration.name, migration.checksum, to_db_time(now or datetime.now(UTC))),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        versions.append(migration.version)
    return versions


def require_current(conn: sqlite3.Connection, known: Sequence[Migration]) -> None:
    """For read-only use: raise unless every known migration has been applied."""
    pending = check(known, applied(conn))
    if pending:
        raise MigrationError(
            f"the database needs migration {pending[0].label} (and {len(pending) - 1} more) before it can be "
            "read; open it once with the bot (it migrates on start) and try again"
        )
