"""The work only one replica at a time may do, and how a replica that died is noticed.

Several bot processes (replicas) may share one database. Any of them serves any click, because every
transition is guarded in the store; but the loops that act on their own — the agent, the sweeper
(expiry, reverts, settling what a dead replica left in flight), the Slack catch-up — run on one
replica at a time, the holder of that loop's lease (``LeaseStore``).

``LeaseKeeper`` takes a lease and renews it every ``ttl / 3``; it runs its work only while it holds the
lease, and stops the work (sets its stop event, then cancels it) as soon as a renewal is refused, or
when renewals have failed for long enough that the lease may have lapsed. A replica that dies stops
renewing: its leases lapse after at most ``ttl`` and another replica's keeper, which tries every
``ttl / 3``, takes them over. Each replica also keeps a heartbeat lease, ``replica/<id>``, with no work:
``ReplicaWatch`` reads a lapsed heartbeat as "that replica is gone". See docs/replicas.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from actions.clock import Clock
from actions.models import AuditEntry
from actions.ports import Lease, LeaseStore

logger = logging.getLogger(__name__)

Work = Callable[[asyncio.Event], Coroutine[Any, Any, None]]

# The lease names the composition root uses.
AGENT_LEASE = "agent"
SWEEPER_LEASE = "sweeper"
CATCH_UP_LEASE = "catch-up"

# The key under which an intent row names the replica that claimed the proposal.
CLAIMED_BY = "replica"


def cluster_lease(lease: str, cluster: str | None) -> str:
    """The lease of one cluster's loop: the plain name with one cluster, ``agent/prod`` with several."""
    return lease if cluster is None else f"{lease}/{cluster}"


def heartbeat_lease(replica: str) -> str:
    """The name of ``replica``'s own lease, renewed for as long as it runs."""
    return f"replica/{replica}"


def claimed_by(intent: AuditEntry | None) -> str | None:
    """The replica that claimed a proposal, from its "about to call PD" row (None: not recorded)."""
    if intent is None:
        return None
    replica = intent.request_json.get(CLAIMED_BY)
    return replica if isinstance(replica, str) and replica else None


class LeaseKeeper:
    """Holds one named lease for ``owner`` and runs ``work`` (if any) only while it holds it."""

    def __init__(
        self,
        store: LeaseStore,
        name: str,
        *,
        owner: str,
        ttl: timedelta,
        clock: Clock,
        work: Work | None = None,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"a lease lasts a positive time, not {ttl}")
        self._store = store
        self.name = name
        self._owner = owner
        self._ttl = ttl
        self._clock = clock
        self._work = work
        self._seconds = ttl.total_seconds()
        self.period = self._seconds / 3  # how often the lease is renewed (or, by a standby, tried)
        # The work stops this long before the lease could lapse, to leave time for it to wind down.
        self._margin = self.period / 2
        self.lease: Lease | None = None
        self._safe_until = 0.0  # loop time until which the lease is surely ours
        self._task: asyncio.Task[None] | None = None
        self._task_stop: asyncio.Event | None = None
        self.terms = 0  # how many times this keeper took the lease (tests, logs)

    @property
    def holding(self) -> bool:
        """Whether this replica holds the lease as far as it knows (and so runs the work)."""
        return self.lease is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: keep or try for the lease every ``period``; release it on the way out."""
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                started = loop.time()
                # While holding, an attempt that hangs must not outlast the moment the lease may lapse.
                limit = self.period
                if self.lease is not None:
                    limit = max(0.01, min(limit, self._safe_until - started))
                got = await self._attempt(limit)
                if isinstance(got, Lease):
                    if self.lease is None:
                        self.terms += 1
                        logger.info("lease %s: held by %s (token %d)", self.name, self._owner, got.token)
                    self.lease = got
                    self._safe_until = started + self._seconds - self._margin
                    self._start_work()
                elif got is None and self.lease is not None:
                    logger.warning("lease %s: taken over by another replica; stopping its work", self.name)
                    await self._lose()
                self._reap()
                # Wake for the next renewal, or at the moment the lease may lapse if renewals keep failing.
                wake = started + self.period
                if self.lease is not None:
                    wake = min(wake, self._safe_until)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(0.0, wake - loop.time()))
                if self.lease is not None and loop.time() >= self._safe_until:
                    logger.warning("lease %s: not renewed in time; stopping its work", self.name)
                    await self._lose()
        finally:
            held = self.lease is not None
            await self._lose()
            if held:
                with contextlib.suppress(Exception):
                    await self._store.release_lease(self.name, owner=self._owner)

    async def _attempt(self, limit: float) -> Lease | Exception | None:
        """One acquire, given ``limit`` seconds; an exception (or a call that hangs) is returned."""
        try:
            return await asyncio.wait_for(
                self._store.acquire_lease(self.name, owner=self._owner, ttl=self._ttl, now=self._clock()),
                timeout=limit,
            )
        except Exception as exc:  # the database failing or hanging: the lease is in doubt, not lost
            logger.warning("lease %s: could not renew (%s)", self.name, exc or type(exc).__name__)
            return exc

    def _start_work(self) -> None:
        if self._work is None or self._task is not None:
            return
        self._task_stop = asyncio.Event()
        self._task = asyncio.create_task(self._work(self._task_stop), name=f"lease-{self.name}")

    def _reap(self) -> None:
        """A work that ended on its own (it failed) is started again at the next renewal."""
        if self._task is not None and self._task.done():
            if not self._task.cancelled() and self._task.exception() is not None:
                logger.error("lease %s: its work failed", self.name, exc_info=self._task.exception())
            self._task = None

    async def _lose(self) -> None:
        self.lease = None
        task, self._task = self._task, None
        if task is None:
            return
        if self._task_stop is not None:
            self._task_stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await task
            except Exception:
                logger.exception("lease %s: its work failed while stopping", self.name)


class ReplicaWatch:
    """Tells whether the replica that claimed a proposal is gone: its heartbeat lease has lapsed.

    The heartbeat is probed by trying to take it (and giving it back at once): a lapsed lease is taken,
    a live one is refused. The store has no other way to ask, so nothing beyond ``LeaseStore`` is
    needed of it.
    """

    def __init__(
        self,
        store: LeaseStore,
        *,
        me: str,
        ttl: timedelta,
        clock: Clock,
        known_dead: Callable[[str], bool] | None = None,
    ) -> None:
        """``known_dead``: a quicker, certain answer where there is one (a process of this host that no
        longer exists), consulted before the heartbeat."""
        self._store = store
        self.me = me
        self.ttl = ttl
        self._clock = clock
        self._known_dead = known_dead

    async def gone(self, replica: str | None, *, at_start: bool = False) -> bool:
        """Whether ``replica`` (None: a claim from before replicas were recorded) is gone.

        This replica itself counts as gone only ``at_start``: what it claimed then was claimed by an
        earlier process with the same id. Otherwise its own work is the executor's to track.
        """
        if replica is None:
            return True
        if replica == self.me:
            return at_start
        if self._known_dead is not None and self._known_dead(replica):
            return True
        name = heartbeat_lease(replica)
        probe = await self._store.acquire_lease(name, owner=self.me, ttl=self.ttl, now=self._clock())
        if probe is None:
            return False
        await self._store.release_lease(name, owner=self.me)
        return True
