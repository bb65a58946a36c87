"""WorkLimiter: admission up to a bound, a fixed number of jobs at once, lapsed tickets, shutdown."""

from __future__ import annotations

import asyncio

import pytest

from bot.work import Outcome, WorkLimiter


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_admission_stops_at_concurrency_plus_queue() -> None:
    """Two slots and three waiting places admit five jobs; the sixth is refused at once."""
    work = WorkLimiter(concurrency=2, queue=3)
    tickets = [work.admit() for _ in range(5)]
    assert None not in tickets and len(set(tickets)) == 5
    assert work.admit() is None
    assert work.depth == 5


async def test_only_concurrency_jobs_run_at_once_and_the_rest_wait_their_turn() -> None:
    """Five admitted jobs on two slots: never more than two run together, and all five run."""
    work = WorkLimiter(concurrency=2, queue=3)
    running = 0
    most = 0
    release = asyncio.Event()

    async def job() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    runs = [asyncio.create_task(work.run(work.admit(), job)) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert running == 2 and work.depth == 5 and work.admit() is None
    release.set()
    assert await asyncio.gather(*runs) == [Outcome.DONE] * 5
    assert most == 2 and work.depth == 0
    assert work.admit() is not None  # the places are free again


async def test_a_refused_or_reused_ticket_runs_nothing() -> None:
    """No ticket (refused by the ack) or a ticket already used: the job does not run."""
    work = WorkLimiter(concurrency=1, queue=0)
    ran: list[str] = []

    async def job() -> None:
        ran.append("ran")

    assert await work.run(None, job) is Outcome.NOT_ADMITTED
    ticket = work.admit()
    assert await work.run(ticket, job) is Outcome.DONE
    assert await work.run(ticket, job) is Outcome.NOT_ADMITTED
    assert ran == ["ran"]


async def test_a_job_that_cannot_start_in_time_is_not_started() -> None:
    """With the only slot taken, a job bound to a trigger id gives up after start_within."""
    work = WorkLimiter(concurrency=1, queue=1)
    release = asyncio.Event()
    late: list[str] = []

    async def slow() -> None:
        await release.wait()

    async def modal() -> None:
        late.append("opened")

    first = asyncio.create_task(work.run(work.admit(), slow))
    await asyncio.sleep(0)
    assert await work.run(work.admit(), modal, start_within=0.02) is Outcome.TOO_LATE
    assert late == [] and work.depth == 1
    release.set()
    assert await first is Outcome.DONE


async def test_a_job_that_raises_frees_its_slot_and_the_error_reaches_the_caller() -> None:
    """The exception propagates to run's caller (the error path); the slot is given back."""
    work = WorkLimiter(concurrency=1, queue=0)

    async def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await work.run(work.admit(), boom)
    assert work.depth == 0 and work.admit() is not None


def test_a_ticket_never_claimed_lapses_and_gives_its_place_back() -> None:
    """An admitted job whose lazy listener never came holds its place only for claim_within seconds."""
    clock = _Clock()
    work = WorkLimiter(concurrency=1, queue=0, claim_within=10.0, clock=clock)
    assert work.admit() is not None
    assert work.admit() is None
    clock.now += 11
    assert work.admit() is not None


async def test_closing_refuses_new_work_and_cancels_running_jobs() -> None:
    """aclose: admit says no, jobs waiting or running are cancelled and awaited."""
    work = WorkLimiter(concurrency=1, queue=1)
    started = asyncio.Event()
    cancelled: list[str] = []

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append("running")
            raise

    running = asyncio.create_task(work.run(work.admit(), forever))
    waiting = asyncio.create_task(work.run(work.admit(), forever))
    await started.wait()
    await work.aclose(grace=0.05)
    assert running.cancelled() and waiting.cancelled()
    assert cancelled == ["running"]
    assert work.admit() is None and work.depth == 0


def test_nonsense_sizes_are_refused() -> None:
    """No slots at all is a configuration error."""
    with pytest.raises(ValueError, match="concurrency"):
        WorkLimiter(concurrency=0)


async def test_a_job_waits_while_an_ack_is_worked_out_and_starts_when_it_is_done() -> None:
    """Acks come first: an admitted job does not start during an ack, and starts as soon as it ends."""
    work = WorkLimiter(concurrency=1, queue=0, defer_at_most=5.0)
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    with work.acking():
        task = asyncio.create_task(work.run(work.admit(), job))
        await asyncio.sleep(0.05)
        assert not ran.is_set()
    assert await asyncio.wait_for(task, 1.0) is Outcome.DONE and ran.is_set()


async def test_a_job_waits_for_acks_only_so_long() -> None:
    """Under a stream of acks that never ends, a job still starts after defer_at_most."""
    work = WorkLimiter(concurrency=1, queue=0, defer_at_most=0.05)

    async def job() -> None:
        pass

    with work.acking():
        assert await asyncio.wait_for(work.run(work.admit(), job), 1.0) is Outcome.DONE


async def test_a_job_bound_to_a_trigger_does_not_wait_for_acks() -> None:
    """A job with start_within (a modal to open) starts at once even during an ack."""
    work = WorkLimiter(concurrency=1, queue=0, defer_at_most=5.0)
    opened: list[str] = []

    async def modal() -> None:
        opened.append("opened")

    with work.acking():
        outcome = await asyncio.wait_for(work.run(work.admit(), modal, start_within=1.0), 0.5)
    assert outcome is Outcome.DONE and opened == ["opened"]


async def test_a_lone_acks_job_starts_at_once_but_a_bursts_waits_for_its_pause() -> None:
    """One ack just answered: its job does not wait. Two answered within ``quiet``: a burst goes on,
    so the job waits until the pause is ``quiet`` long."""
    work = WorkLimiter(concurrency=1, queue=1, defer_at_most=5.0, quiet=0.2)
    loop = asyncio.get_running_loop()

    async def job() -> None:
        pass

    with work.acking():
        pass
    started = loop.time()
    assert await work.run(work.admit(), job) is Outcome.DONE
    assert loop.time() - started < 0.1
    with work.acking():
        pass
    started = loop.time()
    assert await work.run(work.admit(), job) is Outcome.DONE
    assert 0.15 < loop.time() - started < 1.0


async def test_closing_lets_a_running_job_finish_within_the_grace_and_starts_no_waiting_one() -> None:
    """aclose gives the job in its slot time to end (a PD write is not cut off); the admitted job still
    waiting for the slot is not started."""
    work = WorkLimiter(concurrency=1, queue=1, defer_at_most=0)
    started = asyncio.Event()
    ran: list[str] = []

    async def short() -> None:
        started.set()
        await asyncio.sleep(0.05)
        ran.append("short")

    async def next_one() -> None:
        ran.append("next")

    running = asyncio.create_task(work.run(work.admit(), short))
    waiting = asyncio.create_task(work.run(work.admit(), next_one))
    await started.wait()
    await work.aclose(grace=2.0)
    assert await running is Outcome.DONE and await waiting is Outcome.NOT_ADMITTED
    assert ran == ["short"]
