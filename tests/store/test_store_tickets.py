"""Tickets: at most one open per key, reopened as a new ticket after closing."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest
import store_builders as b

from store.sqlite import SqliteProposalStore


async def test_open_ticket_creates_once_then_returns_the_open_one(store: SqliteProposalStore) -> None:
    """The first call creates the ticket; the second returns it unchanged and says it was not created."""
    ticket, created = await store.open_ticket(
        key="store-down:4", title="Store 4 is down", detail={"store_id": 4, "since": "12:00"}, now=b.T0
    )
    again, created_again = await store.open_ticket(
        key="store-down:4", title="different title", detail={}, now=b.T0 + timedelta(minutes=5)
    )
    assert (created, created_again) == (True, False)
    assert again == ticket
    assert (ticket.key, ticket.title, ticket.state, ticket.created_at) == (
        "store-down:4",
        "Store 4 is down",
        "open",
        b.T0,
    )
    assert ticket.detail == {"store_id": 4, "since": "12:00"}


async def test_closing_a_ticket_lets_the_key_open_a_new_one(store: SqliteProposalStore) -> None:
    """After close_ticket, the same key opens a fresh ticket with a new id."""
    first, _ = await store.open_ticket(key="hot-region:12", title="Hot", detail={}, now=b.T0)
    await store.close_ticket(first.id, now=b.T0 + timedelta(hours=1))
    assert await store.list_open_tickets() == []
    second, created = await store.open_ticket(key="hot-region:12", title="Hot again", detail={}, now=b.T0)
    assert created and second.id != first.id


async def test_list_open_tickets_leaves_closed_ones_out(store: SqliteProposalStore) -> None:
    """Only open tickets are listed, oldest first."""
    a, _ = await store.open_ticket(key="a", title="A", detail={}, now=b.T0)
    c, _ = await store.open_ticket(key="c", title="C", detail={}, now=b.T0)
    closed, _ = await store.open_ticket(key="b", title="B", detail={}, now=b.T0)
    await store.close_ticket(closed.id, now=b.T0)
    assert [t.id for t in await store.list_open_tickets()] == [a.id, c.id]


async def test_closing_twice_or_an_unknown_ticket_changes_nothing(
    store: SqliteProposalStore, db_path: str
) -> None:
    """close_ticket is idempotent: the first close time stays."""
    ticket, _ = await store.open_ticket(key="k", title="K", detail={}, now=b.T0)
    await store.close_ticket(ticket.id, now=b.T0 + timedelta(minutes=1))
    await store.close_ticket(ticket.id, now=b.T0 + timedelta(minutes=9))
    await store.close_ticket(4040, now=b.T0)
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT state, closed_at FROM tickets").fetchall() == [
            ("closed", "2026-11-28T12:01:00.000000Z")
        ]


async def test_concurrent_opens_of_one_key_create_one_ticket(store: SqliteProposalStore) -> None:
    """Twenty agents cycles racing on one finding create exactly one ticket."""
    results = await asyncio.gather(
        *(store.open_ticket(key="store-down:4", title="Store 4", detail={}, now=b.T0) for _ in range(20))
    )
    assert sum(created for _, created in results) == 1
    assert len({ticket.id for ticket, _ in results}) == 1


async def test_the_schema_allows_one_open_ticket_per_key(store: SqliteProposalStore, db_path: str) -> None:
    """Even a writer that bypasses the store cannot open a second ticket for an open key."""
    await store.open_ticket(key="store-down:4", title="Store 4", detail={}, now=b.T0)
    with closing(sqlite3.connect(db_path)) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute("INSERT INTO tickets (key, title, created_at) VALUES ('store-down:4', 'dup', 'x')")
        conn.execute(
            "INSERT INTO tickets (key, title, state, created_at, closed_at)"
            " VALUES ('store-down:4', 'old', 'closed', 'x', 'y')"
        )
