"""Fixtures for the store's tests: a real SQLite file per test, an in-memory one, and ``store``
run against both backends.

``store`` is parametrized over SQLite and PostgreSQL (a fresh database per test on the session's
server, see tests/pg.py), so every contract test holds for both. A test that opens the SQLite file
itself (it asks for ``db_path``) or is marked ``sqlite_only`` runs on SQLite alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pg import PostgresForTests

from store.backend import AnyStore
from store.postgres import open_postgres_store
from store.sqlite import SqliteProposalStore, open_store

BACKENDS = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test checks something only the SQLite store has"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" not in metafunc.fixturenames:
        return
    sqlite_only = "db_path" in metafunc.fixturenames or metafunc.definition.get_closest_marker("sqlite_only")
    metafunc.parametrize("store", ("sqlite",) if sqlite_only else BACKENDS, indirect=True)


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "chatops.db")


@pytest.fixture
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AnyStore]:
    """A migrated store, closed after the test: SQLite on a real file (WAL, synchronous=FULL), or
    PostgreSQL on a fresh database."""
    opened: AnyStore
    if request.param != "postgres":
        opened = await open_store(str(tmp_path / "chatops.db"), busy_timeout=2.0)
        yield opened
        await opened.aclose()
        return
    server: PostgresForTests = request.getfixturevalue("postgres_server")
    name = await server.fresh_database()
    opened = await open_postgres_store(server.dsn(name))
    yield opened
    await opened.aclose()
    await server.drop_database(name)


@pytest.fixture
async def mem_store() -> AsyncIterator[SqliteProposalStore]:
    opened = await open_store(":memory:")
    yield opened
    await opened.aclose()
