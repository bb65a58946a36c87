"""A real PostgreSQL for the test session (a pytest plugin, loaded by tests/conftest.py).

``postgres_server`` starts one server per session (``store.postgres.local``: Debian's binaries,
``initdb`` in a temporary directory as an unprivileged user, a free port on 127.0.0.1) with a
migrated template database, and stops it at the end. ``pg_dsn`` is a fresh database per test, cloned
from that template (``CREATE DATABASE … TEMPLATE``), dropped after the test.

When no server can start, every test that needs one is skipped with the reason (``make pg-deps``
installs Debian's ``postgresql``; ``make test`` does it first).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import asyncpg
import pytest

from store.postgres.local import LocalPostgres, PostgresUnavailable, start_local
from store.postgres.store import open_postgres_store

TEMPLATE = "chatops_template"


@dataclass
class PostgresForTests:
    server: LocalPostgres
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def dsn(self, database: str) -> str:
        return self.server.dsn(database)

    async def fresh_database(self) -> str:
        """A new database with the store's schema already migrated; its name."""
        name = f"test_{next(self._numbers)}"
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
        finally:
            await conn.close()
        return name

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def _make_template(server: LocalPostgres) -> None:
    conn = await asyncpg.connect(server.dsn("postgres"))
    try:
        await conn.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await conn.close()
    store = await open_postgres_store(server.dsn(TEMPLATE), max_connections=1)
    await store.aclose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresForTests]:
    """One PostgreSQL for the whole session (fsync off: the tests need its semantics, not its disk)."""
    try:
        server = start_local(fsync=False)
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL could not start, so the PostgreSQL tests are skipped: {exc}")
    try:
        # On its own thread: the first test to ask may be running its event loop already.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _make_template(server)).result()
        yield PostgresForTests(server)
    finally:
        server.stop()


@pytest.fixture
async def pg_dsn(postgres_server: PostgresForTests) -> AsyncIterator[str]:
    """The DSN of a fresh, migrated database for this test."""
    name = await postgres_server.fresh_database()
    yield postgres_server.dsn(name)
    await postgres_server.drop_database(name)
