"""LeaseKeeper: the work runs on one replica at a time, stops when the lease is lost or cannot be
renewed in time, and is taken over by a standby once the lease lapses (or at once when it is released)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from actions.clock import utc_now
from actions.errors import StorageUnavailable
from actions.leases import LeaseKeeper
from actions.ports import Lease
from store.sqlite import SqliteProposalStore, open_store

TTL = timedelta(seconds=1.5)


class Replica:
    """One replica's view of the shared store: it can be cut off from it (every call fails) or be told
    that someone else holds every lease."""

    def __init__(self, store: SqliteProposalStore) -> None:
        self.store = store
        self.cut_off = False
        self.refused = False
        self.hung = False

    async def acquire_lease(self, name: str, *, owner: str, ttl: timedelta, now: datetime) -> Lease | None:
        if self.cut_off:
            raise StorageUnavailable("the database is locked")
        if self.refused:
            return None
        if self.hung:  # the database never answers
            await asyncio.Event().wait()
        return await self.store.acquire_lease(name, owner=owner, ttl=ttl, now=now)

    async def release_lease(self, name: str, *, owner: str) -> None:
        if self.cut_off:
            raise StorageUnavailable("the database is locked")
        await self.store.release_lease(name, owner=owner)


class Worker:
    """Work that notes when it runs; ``running`` is true between its start and its stop."""

    def __init__(self) -> None:
        self.running = False
        self.starts = 0
        self.stopped_at: datetime | None = None

    async def __call__(self, stop: asyncio.Event) -> None:
        self.running, self.starts = True, self.starts + 1
        try:
            await stop.wait()
        finally:
            self.running = False
            self.stopped_at = utc_now()


@pytest.fixture
async def shared(tmp_path: Path) -> AsyncIterator[SqliteProposalStore]:
    store = await open_store(str(tmp_path / "leases.db"))
    yield store
    await store.aclose()


async def _until(check: Callable[[], bool], limit: float = 15.0) -> float:
    """Poll until ``check()``; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not check():
        assert loop.time() - started < limit, f"still false after {limit}s"
        await asyncio.sleep(0.02)
    return loop.time() - started


def _keeper(replica: Replica, owner: str, work: Worker, ttl: timedelta = TTL) -> LeaseKeeper:
    return LeaseKeeper(replica, "agent", owner=owner, ttl=ttl, clock=utc_now, work=work)


async def test_one_of_two_keepers_runs_the_work_and_the_other_takes_over_when_it_is_cut_off(
    shared: SqliteProposalStore,
) -> None:
    a, b = Replica(shared), Replica(shared)
    work_a, work_b = Worker(), Worker()
    keeper_a, keeper_b = _keeper(a, "a", work_a), _keeper(b, "b", work_b)
    stop = asyncio.Event()
    task_a = asyncio.create_task(keeper_a.run(stop))
    await _until(lambda: work_a.running)
    task_b = asyncio.create_task(keeper_b.run(stop))
    try:
        await asyncio.sleep(TTL.total_seconds() * 2)  # b keeps trying: the lease stays a's
        assert work_a.running and not work_b.running and keeper_a.holding and not keeper_b.holding

        a.cut_off = True  # as if a froze or lost its database: it cannot renew
        await _until(lambda: not work_a.running, limit=TTL.total_seconds() * 3)
        assert not keeper_a.holding
        await _until(lambda: work_b.running, limit=TTL.total_seconds() * 5)
        assert not work_a.running  # never both at once
        assert keeper_b.lease is not None and keeper_b.lease.token == 2  # a new owner, a new token
    finally:
        stop.set()
        await asyncio.gather(task_a, task_b)
    assert not work_a.running and not work_b.running


async def test_a_keeper_told_the_lease_is_anothers_stops_its_work_at_the_next_renewal(
    shared: SqliteProposalStore,
) -> None:
    a, work = Replica(shared), Worker()
    keeper = _keeper(a, "a", work)
    stop = asyncio.Event()
    task = asyncio.create_task(keeper.run(stop))
    try:
        await _until(lambda: work.running)
        a.refused = True
        took = await _until(lambda: not work.running, limit=keeper.period * 4)
        assert took <= keeper.period * 4 and not keeper.holding
        a.refused = False
        await _until(lambda: work.running)  # back: started again
        assert work.starts == 2 and keeper.terms == 2
    finally:
        stop.set()
        await task


async def test_a_keeper_that_stops_releases_the_lease_so_a_standby_takes_it_before_it_would_lapse(
    shared: SqliteProposalStore,
) -> None:
    ttl = timedelta(seconds=6)
    a, b = Replica(shared), Replica(shared)
    work_a, work_b = Worker(), Worker()
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    keeper_a = _keeper(a, "a", work_a, ttl)
    task_a = asyncio.create_task(keeper_a.run(stop_a))
    await _until(lambda: work_a.running)
    keeper_b = _keeper(b, "b", work_b, ttl)
    task_b = asyncio.create_task(keeper_b.run(stop_b))
    try:
        await asyncio.sleep(0.5)
        assert not work_b.running
        assert keeper_a.lease is not None
        would_lapse = keeper_a.lease.expires_at
        stop_a.set()
        await task_a
        assert not work_a.running
        await _until(lambda: work_b.running, limit=ttl.total_seconds() * 2)
        assert utc_now() < would_lapse  # taken at b's next try, not after a's lease ran out
    finally:
        stop_a.set()
        stop_b.set()
        await asyncio.gather(task_a, task_b)


async def test_a_keeper_whose_database_hangs_stops_its_work_before_its_lease_can_lapse(
    shared: SqliteProposalStore,
) -> None:
    ttl = timedelta(seconds=6)
    a, work = Replica(shared), Worker()
    keeper = _keeper(a, "a", work, ttl)
    stop = asyncio.Event()
    task = asyncio.create_task(keeper.run(stop))
    try:
        await _until(lambda: work.running)
        assert keeper.lease is not None
        a.hung = True
        last = keeper.lease.expires_at  # renewals from now on never return
        await _until(
            lambda: keeper.lease is None or keeper.lease.expires_at > last, limit=ttl.total_seconds()
        )
        lapses = keeper.lease.expires_at if keeper.lease is not None else last
        await _until(lambda: not work.running, limit=ttl.total_seconds() * 2)
        assert work.stopped_at is not None and work.stopped_at < lapses
    finally:
        stop.set()
        await task
