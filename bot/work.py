"""``WorkLimiter``: the one bound on the slow work listeners hand off after their ack.

Every ack function asks ``admit()`` first. It is pure, never waits and never raises: it either reserves a
place (a ticket number the ack function leaves in Bolt's context) or says no, and then the ack itself
tells the person the bot is busy. The lazy listener hands its ticket and its job to ``run``, which waits
for one of ``concurrency`` slots and runs the job there::

    ack function            lazy listener (Bolt starts it once the ack is sent)
    ────────────            ───────────────────────────────────────────────────
    admit() -> ticket  ──▶  run(ticket, job): claim the ticket, wait for a slot, run, release
    admit() -> None         ("busy" was already answered; run(None, …) runs nothing)

At most ``concurrency + queue`` jobs are admitted at a time (running, waiting for a slot, or admitted
and not yet started), so a burst of requests costs a bounded amount of PD traffic and memory; what is
over the bound is refused at once instead of being answered minutes later. A ticket whose lazy
listener never claims it lapses after ``claim_within`` seconds so it cannot hold a place for ever.

Acks come first: during a burst of acks (one being worked out by ``acking``, or two answered within
``quiet`` seconds), a job waits before it starts, for at most ``defer_at_most`` seconds; the job of
a lone click starts at once. Slack gives
an ack 3 seconds and shows the person an error after that, while an answer through the response URL
may come later; so under a burst the acks take the event loop and the work runs once the burst is
over (or once it has waited long enough). A job that must start soon (``start_within``: a modal's
trigger id expires) does not wait. A refused click's "busy" notice waits the same way
(``after_acks``).

``aclose`` (the composition root's exit stack calls it) refuses new work and cancels what runs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Outcome(enum.Enum):
    """What ``run`` did with a job."""

    DONE = "done"  # the job ran (and returned or raised: ``run`` re-raises)
    NOT_ADMITTED = "not admitted"  # no valid ticket: refused by the ack, lapsed, or shutting down
    TOO_LATE = "too late"  # no slot within ``start_within``: the job was not started


class WorkLimiter:
    """Admission (``admit``) and a bounded number of concurrent jobs (``run``)."""

    def __init__(
        self,
        *,
        concurrency: int = 8,
        queue: int = 64,
        claim_within: float = 10.0,
        defer_at_most: float = 1.0,
        quiet: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1 or queue < 0:
            raise ValueError("concurrency must be at least 1 and queue at least 0")
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self._claim_within = claim_within
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._numbers = itertools.count(1)
        self._reserved: dict[int, float] = {}  # ticket -> when it was admitted
        self._started = 0  # jobs claimed: waiting for a slot or running
        self._tasks: set[asyncio.Task[object]] = set()
        self._closed = False
        self._defer_at_most = defer_at_most
        self._quiet = quiet
        self._acks = 0  # acks being worked out right now
        self._answered: collections.deque[float] = collections.deque(maxlen=2)  # the last two acks' ends
        self._no_acks = asyncio.Event()
        self._no_acks.set()

    @property
    def depth(self) -> int:
        """Jobs admitted and not finished: reserved, waiting for a slot, or running."""
        return len(self._reserved) + self._started

    @contextlib.contextmanager
    def acking(self) -> Iterator[None]:
        """Marks an ack in progress (the HTTP handler and the app's dispatch wrap themselves in it)."""
        self._acks += 1
        self._no_acks.clear()
        try:
            yield
        finally:
            self._acks -= 1
            self._answered.append(asyncio.get_running_loop().time())
            if self._acks == 0:
                self._no_acks.set()

    async def after_acks(self) -> None:
        """Return at once outside a burst of acks, else when it is over or after ``defer_at_most``."""
        # Between two requests of a burst no ack is in progress for a moment: two acks answered
        # within ``quiet`` seconds of each other mean the burst goes on.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._defer_at_most
        while loop.time() < deadline:
            if self._acks:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(deadline):
                        await self._no_acks.wait()
                continue
            if len(self._answered) < 2:
                return
            pause = self._answered[0] + self._quiet - loop.time()
            if pause <= 0:
                return
            await asyncio.sleep(min(pause, deadline - loop.time()))

    def admit(self) -> int | None:
        """A ticket for one job, or None when ``capacity`` jobs are already admitted. Never raises."""
        if self._closed:
            return None
        if len(self._reserved) + self._started >= self.capacity:
            self._drop_lapsed()
            if len(self._reserved) + self._started >= self.capacity:
                return None
        ticket = next(self._numbers)
        self._reserved[ticket] = self._clock()
        return ticket

    def _drop_lapsed(self) -> None:
        deadline = self._clock() - self._claim_within
        for ticket in [t for t, at in self._reserved.items() if at < deadline]:
            del self._reserved[ticket]
            logger.warning("work ticket %d was never claimed; its place is given back", ticket)

    async def run(self, ticket: int | None, job: Job, *, start_within: float | None = None) -> Outcome:
        """Run ``job`` in a slot if ``ticket`` was admitted; its exceptions propagate to the caller.

        ``start_within`` (seconds): give up if no slot is free by then, e.g. when the job needs a
        Slack trigger id that expires.
        """
        if ticket is None or self._reserved.pop(ticket, None) is None or self._closed:
            return Outcome.NOT_ADMITTED
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._started += 1
        try:
            if start_within is None:
                await self.after_acks()
            try:
                async with asyncio.timeout(start_within):
                    await self._slots.acquire()
            except TimeoutError:
                return Outcome.TOO_LATE
            if self._closed:  # shutting down while it waited: no new work, above all no PD write
                self._slots.release()
                return Outcome.NOT_ADMITTED
            try:
                await job()
            finally:
                self._slots.release()
            return Outcome.DONE
        finally:
            self._started -= 1
            if task is not None:
                self._tasks.discard(task)

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Admit and start nothing more; give running jobs ``grace`` seconds to finish (an approval
        half-way through its PD write had better end than be cut off), then cancel what is left."""
        self._closed = True
        self._reserved.clear()
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
