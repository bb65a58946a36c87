"""The bot's database locked by another connection, or out of space, while people click.

Locked: an operator's ``sqlite3`` shell holds ``BEGIN EXCLUSIVE`` on the file. Full: the process may not
grow any file (``RLIMIT_FSIZE`` at the WAL's current size — SQLite appends every commit to the WAL, so
the next commit fails exactly as on a full disk; Python ignores SIGXFSZ, so the write just fails). Either
way the person who clicked is told, nothing is half-written, PD gets no write, and once the database is
usable again the proposal is still pending and can be approved. When the lock comes only after a click's
first write committed, the person is told what is recorded instead, and the bot finishes the rest itself.
"""

from __future__ import annotations

import functools
import os
import resource
import signal
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from faults_support import ALICE, BOB, FaultEnv, eventually, fault_env, healthy_regions, read_rows

import bot.main
from actions.models import ProposalState
from bot import texts
from bot.playground.model import Ephemeral, Message
from store.sqlite import open_store

BUSY_TIMEOUT = 0.3  # seconds a write waits for the lock (5 s in production)


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The composition root opens the store with a short busy timeout, so a lock fails fast."""
    monkeypatch.setattr(bot.main, "open_store_at", functools.partial(open_store, busy_timeout=BUSY_TIMEOUT))


@contextmanager
def locked(db: Path) -> Iterator[None]:
    """Another connection holds the database's write lock."""
    holder = sqlite3.connect(db, isolation_level=None, timeout=5)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@contextmanager
def disk_full(db: Path) -> Iterator[None]:
    """No file of this process may grow past the WAL's current size until the block ends."""
    assert signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN  # Python's default: a failed write, no signal
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(f"{db}-wal"), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def _told(env: FaultEnv, user: str, before: int) -> Ephemeral | None:
    said = env.fake.ephemerals(user=user)
    return said[before] if len(said) > before else None


def _snapshot(env: FaultEnv) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables a decision writes, as another connection sees them."""
    return {
        table: [tuple(r) for r in read_rows(env.db_path, f"SELECT * FROM {table} ORDER BY id")]
        for table in ("proposals", "approvals", "events", "action_log")
    }


async def _pending_card(env: FaultEnv, region: int, target: int) -> tuple[Message, int]:
    card = await env.propose(ALICE, f"transfer-leader {region} {target}")
    proposal = await env.proposal(card)  # the card's ts is stored: nothing of the proposal is in flight
    await env.quiesce(quiet=0.2)
    return card, proposal.id


async def _approve_succeeds(env: FaultEnv, card: Message, proposal_id: int, region: int) -> None:
    await env.click(BOB, card, texts.ActionId.APPROVE)
    await env.fake.wait_for(
        lambda: [r for r in env.replies(card) if r.text.startswith(f"✅ #{proposal_id} succeeded")],
        timeout=30,
    )
    assert env.operators == [("admin-transfer-leader", region)] and len(env.pd_writes()) == 1


async def _refused_click(env: FaultEnv, card: Message, proposal_id: int) -> Ephemeral:
    """Bob clicks Approve while the store fails: he is told, and nothing changed anywhere."""
    before, said = _snapshot(env), len(env.fake.ephemerals(user=BOB))
    delivery = await env.click(BOB, card, texts.ActionId.APPROVE)
    assert delivery.ok, delivery.error
    told: Ephemeral = await env.fake.wait_for(lambda: _told(env, BOB, said), timeout=30)
    assert "nothing more was done" in told.text and "Traceback" not in told.text
    assert _snapshot(env) == before
    assert env.pd_writes() == [] and env.operators == []
    assert (await env.bot.operations.get(proposal_id)).state is ProposalState.PENDING
    assert any(b.get("type") == "actions" for b in env.card(card).blocks)  # still offers Approve
    return told


async def test_a_locked_database_during_an_approve_click_records_nothing_and_sends_nothing(
    tmp_path: Path,
) -> None:
    """Another connection holds the write lock as Bob clicks Approve: Bob is told nothing was done, no row
    changes, PD gets nothing; released, the proposal is still pending and Bob's approval runs it."""
    async with fault_env(tmp_path) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        card, proposal_id = await _pending_card(env, region, followers[0])
        with locked(env.db_path):
            await _refused_click(env, card, proposal_id)
        await _approve_succeeds(env, card, proposal_id, region)


async def test_a_full_disk_refuses_proposals_and_approvals_whole_and_recovers(tmp_path: Path) -> None:
    """With no room to grow the database: a new proposal and an approval are refused with a message and
    leave no row and no card; with room again both work."""
    async with fault_env(tmp_path) as env:
        (region, _leader, followers), (other, _, other_followers) = healthy_regions(env.model)[:2]
        card, proposal_id = await _pending_card(env, region, followers[0])
        with disk_full(env.db_path):
            await _refused_click(env, card, proposal_id)
            before, said = _snapshot(env), len(env.fake.ephemerals(user=ALICE))
            assert (await env.relay.command(ALICE, f"transfer-leader {other} {other_followers[0]}")).ok
            told = await env.fake.wait_for(lambda: _told(env, ALICE, said), timeout=30)
            assert "nothing more was done" in told.text
            assert _snapshot(env) == before and len(env.cards()) == 1
        await _approve_succeeds(env, card, proposal_id, region)
        assert len((await env.propose(ALICE, f"transfer-leader {other} {other_followers[0]}")).ts) > 0


async def test_the_message_for_a_locked_database_says_so_and_to_try_again(tmp_path: Path) -> None:
    """The approver is told the bot's database is busy, that the approval was not recorded, and to retry."""
    async with fault_env(tmp_path) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        card, proposal_id = await _pending_card(env, region, followers[0])
        with locked(env.db_path):
            told = await _refused_click(env, card, proposal_id)
        assert "database" in told.text and "try again" in told.text.lower(), told.text


async def test_a_full_disk_after_the_pd_write_is_told_truthfully_and_settled_once_there_is_room(
    tmp_path: Path,
) -> None:
    """The disk fills between the intent row and the result: the approver learns PD accepted the write, and
    once there is room again the proposal is settled from PD without a second write."""
    async with fault_env(tmp_path) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        card, proposal_id = await _pending_card(env, region, followers[0])
        full = disk_full(env.db_path)
        env.tap.on_write = full.__enter__  # the intent is committed; the write is on its way to PD
        try:
            await env.click(BOB, card, texts.ActionId.APPROVE)
            told = await env.fake.wait_for(lambda: _told(env, BOB, 0), timeout=30)
            await eventually(lambda: env.operators, limit=30)
        finally:
            full.__exit__(None, None, None)
        assert "nothing more was done" not in told.text and "PD accepted" in told.text, told.text
        await env.fake.wait_for(
            lambda: [r for r in env.replies(card) if r.text.startswith(f"✅ #{proposal_id} succeeded")],
            timeout=30,
        )
        assert env.operators == [("admin-transfer-leader", region)] and len(env.pd_writes()) == 1


def _lock_after(env: FaultEnv, step: str) -> ExitStack:
    """Once the store's ``step`` has committed (the first write of a click), another connection takes the
    write lock; the returned stack releases it."""
    held = ExitStack()
    original: Callable[..., Awaitable[Any]] = getattr(env.bot.store, step)

    async def then_lock(*args: Any, **kwargs: Any) -> Any:
        answer = await original(*args, **kwargs)
        setattr(env.bot.store, step, original)
        held.enter_context(locked(env.db_path))
        return answer

    setattr(env.bot.store, step, then_lock)
    return held


async def test_a_database_locked_after_the_approval_commits_says_so_and_the_sweep_runs_it_later(
    tmp_path: Path,
) -> None:
    """The completing approval commits, then the database locks before the run is claimed: Bob is told his
    approval is recorded and nothing was sent (not "try again"); once the lock is gone the periodic sweep
    runs it, once."""
    async with fault_env(tmp_path, SWEEP_SECONDS="0.2") as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        card, proposal_id = await _pending_card(env, region, followers[0])
        with _lock_after(env, "add_approval"):
            await env.click(BOB, card, texts.ActionId.APPROVE)
            told = await env.fake.wait_for(lambda: _told(env, BOB, 0), timeout=30)
            assert told.text == texts.STORAGE_RUN_WAITS.format(id=proposal_id), told.text
            assert env.pd_writes() == [] and env.operators == []
            assert (await env.bot.operations.get(proposal_id)).state is ProposalState.APPROVED
        await env.fake.wait_for(
            lambda: [r for r in env.replies(card) if r.text.startswith(f"✅ #{proposal_id} succeeded")],
            timeout=30,
        )
        assert env.operators == [("admin-transfer-leader", region)] and len(env.pd_writes()) == 1


async def test_a_database_locked_after_the_proposal_commits_says_the_card_is_posted(tmp_path: Path) -> None:
    """The proposal commits and its card is posted, then the database locks before the card's place is
    noted: Alice is told it is proposed with a live card (not "try again"); one card, one proposal."""
    async with fault_env(tmp_path) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        with _lock_after(env, "create_proposal"):
            assert (await env.relay.command(ALICE, f"transfer-leader {region} {followers[0]}")).ok
            told = await env.fake.wait_for(lambda: _told(env, ALICE, 0), timeout=30)
        [proposal] = await env.bot.operations.pending()
        assert told.text == texts.STORAGE_CARD_UNNOTED.format(id=proposal.id), told.text
        assert len(env.cards()) == 1 and env.pd_writes() == []
