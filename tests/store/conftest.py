"""Fixtures for the store's tests: a real SQLite file per test, and an in-memory one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from store.sqlite import SqliteProposalStore, open_store


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "chatops.db")


@pytest.fixture
async def store(db_path: str) -> AsyncIterator[SqliteProposalStore]:
    """A migrated store on a real file (WAL, synchronous=FULL), closed after the test."""
    opened = await open_store(db_path, busy_timeout=2.0)
    yield opened
    await opened.aclose()


@pytest.fixture
async def mem_store() -> AsyncIterator[SqliteProposalStore]:
    opened = await open_store(":memory:")
    yield opened
    await opened.aclose()
