"""Leases: one owner at a time across connections and processes, a token that grows on each owner change."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta

from store import leases
from store.sqlite import SqliteProposalStore, open_store

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)


async def test_a_free_lease_is_taken_and_renewed_by_its_owner_with_the_same_token(
    store: SqliteProposalStore,
) -> None:
    first = await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0)
    assert first is not None and (first.owner, first.token, first.expires_at) == ("a", 1, T0 + TTL)
    renewed = await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0 + timedelta(seconds=5))
    assert renewed is not None and renewed.token == 1 and renewed.expires_at == T0 + timedelta(seconds=20)


async def test_the_same_owner_after_its_lease_lapsed_or_was_released_starts_a_new_tenure(
    store: SqliteProposalStore,
) -> None:
    """A holder paused past its expiry comes back with a newer token than the one it held, on both
    stores, so work stamped with the old tenure can be told apart."""
    assert (await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0)) is not None
    lapsed = await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0 + timedelta(seconds=16))
    assert lapsed is not None and lapsed.token == 2
    await store.release_lease("agent", owner="a")
    again = await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0 + timedelta(seconds=17))
    assert again is not None and again.token == 3


async def test_another_owner_gets_nothing_until_the_lease_expires_then_a_new_token(
    store: SqliteProposalStore,
) -> None:
    assert await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0) is not None
    assert await store.acquire_lease("agent", owner="b", ttl=TTL, now=T0 + timedelta(seconds=14)) is None
    taken = await store.acquire_lease("agent", owner="b", ttl=TTL, now=T0 + TTL)
    assert taken is not None and (taken.owner, taken.token) == ("b", 2)
    # The old owner is refused now, and its lease under another name is untouched.
    assert await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0 + TTL) is None
    other = await store.acquire_lease("sweeper", owner="a", ttl=TTL, now=T0 + TTL)
    assert other is not None and other.token == 1


async def test_a_released_lease_is_free_at_once_and_only_its_owner_can_release_it(
    store: SqliteProposalStore,
) -> None:
    assert await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0) is not None
    await store.release_lease("agent", owner="b")  # not b's: nothing changes
    assert await store.acquire_lease("agent", owner="b", ttl=TTL, now=T0) is None
    await store.release_lease("agent", owner="a")
    taken = await store.acquire_lease("agent", owner="b", ttl=TTL, now=T0 + timedelta(seconds=1))
    assert taken is not None and (taken.owner, taken.token) == ("b", 2)
    back = await store.acquire_lease("agent", owner="a", ttl=TTL, now=T0 + timedelta(days=1))
    assert back is not None and back.token == 3  # every change of owner, never reset


async def test_two_connections_racing_for_one_lease_give_it_to_exactly_one(db_path: str) -> None:
    one, two = await open_store(db_path), await open_store(db_path)
    try:
        answers = await asyncio.gather(
            *(
                (one if i % 2 else two).acquire_lease("agent", owner=f"r{i}", ttl=TTL, now=T0)
                for i in range(40)
            )
        )
    finally:
        await one.aclose()
        await two.aclose()
    winners = [a for a in answers if a is not None]
    assert len(winners) == 1 and winners[0].token == 1


def _contend(path: str, owner: str) -> bool:
    with closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as conn:
        conn.row_factory = sqlite3.Row
        return leases.acquire(conn, "agent", owner=owner, ttl=TTL, now=T0) is not None


async def test_separate_processes_on_one_file_never_both_hold_the_lease(db_path: str) -> None:
    """Eight OS processes each try once at the same instant: one wins, the row names it with token 1."""
    opened = await open_store(db_path)
    await opened.aclose()
    with ProcessPoolExecutor(max_workers=4) as pool:
        won = list(pool.map(_contend, [db_path] * 8, [f"p{i}" for i in range(8)]))
    assert won.count(True) == 1
    with closing(sqlite3.connect(db_path)) as conn:
        [(owner, token)] = conn.execute("SELECT owner, token FROM leases WHERE name = 'agent'").fetchall()
    assert owner == f"p{won.index(True)}" and token == 1
