"""A bot process killed with SIGKILL mid-execution: on restart the reconciler settles it from PD.

The child (``crash_executor.py``) runs the real executor against the PD simulator served on a port
and a SQLite file, and is killed after the intent row is committed and before the result is. The
restarted side opens the same file afresh and reconciles. Nothing runs twice (the simulator counts
the admin operators it accepted) and nothing is lost (the proposal, its events and its audit rows
are all there, and say what happened).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from actions_support import Env, approved_proposal, ops_env, transfer_leader

from actions.executor import Executor
from actions.models import OperatorOutcome, ProposalState
from actions.ports import AuditQuery
from actions.reconcile import Reconciler
from store.sqlite import open_store

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_executor.py")


async def _run_and_kill(env: Env, db_path: str, proposal_id: int, stage: str) -> None:
    """Start the child, wait until it stalls at ``stage``, then SIGKILL it."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        env.server.url,
        db_path,
        str(proposal_id),
        stage,
        env.clock.now.isoformat(),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), timeout=30)
        assert line.decode().strip() == f"READY {stage}", line
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL


async def _drained(executor: Executor) -> None:
    """``drain`` with a deadline, so a stuck follower fails the test here, with every store still closed
    by its context manager (a pytest-timeout would skip those and leave aiosqlite's threads running)."""
    await asyncio.wait_for(executor.drain(), timeout=30)


@asynccontextmanager
async def _restarted(env: Env, db_path: str) -> AsyncIterator[tuple[Executor, Reconciler]]:
    """What the restarted bot builds: a fresh store connection, executor and reconciler."""
    store = await open_store(db_path)
    # Bounded like ops_env's executor: an operator PD never finishes must not hold drain() for the
    # default 20 minutes.
    executor = Executor(
        env.cluster, store, env.notifier, env.clock, poll_interval=0.01, operator_timeout=10.0
    )
    try:
        yield executor, Reconciler(env.cluster, store, env.notifier, executor, env.policy, env.clock)
    finally:
        await executor.aclose()
        await store.aclose()


async def test_a_kill_after_the_write_is_settled_from_the_operator_and_not_sent_again(tmp_path: Path) -> None:
    """SIGKILL after PD accepted the write: on restart PD's operator settles it; one operator in total."""
    db_path = str(tmp_path / "chatops.db")
    async with ops_env(db_path=db_path, step_delay=0.05) as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))

        await _run_and_kill(env, db_path, proposal.id, "after-send")

        left = await env.store.get_proposal(proposal.id)
        assert left is not None and left.state is ProposalState.EXECUTING and left.result is None
        [intent] = [
            r
            for r in await env.store.query_audit(AuditQuery(proposal_id=proposal.id))
            if r.caller_id == f"tikv-chatops/{proposal.id}"
        ]
        assert intent.result_json is None and intent.actor == "U0ALICE"
        assert env.admin_operators == [("admin-transfer-leader", region)]

        async with _restarted(env, db_path) as (executor, reconciler):
            await reconciler.startup()
            await _drained(executor)

        done = await env.store.get_proposal(proposal.id)
        assert done is not None and done.result is not None, done
        assert done.state is ProposalState.SUCCEEDED, (done.state, done.result.message)
        assert done.result.operator is OperatorOutcome.SUCCESS
        assert env.admin_operators == [("admin-transfer-leader", region)]
        assert env.cluster.sent == []
        leader = env.model.region(region).leader
        assert leader is not None and leader.store_id == target
        moves = [(e.from_state, e.to_state) for e in await env.store.events(proposal.id)]
        assert moves == [
            (None, "pending"),
            ("pending", "approved"),
            ("approved", "executing"),
            ("executing", "succeeded"),
        ]
        rows = await env.store.query_audit(AuditQuery(proposal_id=proposal.id))
        assert next(r for r in rows if r.id == intent.id).result_json is not None
        assert any(r.actor == "tikv-chatops/reconciler" for r in rows)


async def test_a_kill_before_the_write_is_settled_failed_and_never_sent(tmp_path: Path) -> None:
    """SIGKILL after the intent but before the send: PD never saw it, so it is failed, and nothing runs."""
    db_path = str(tmp_path / "chatops.db")
    async with ops_env(db_path=db_path) as env:
        region, leader_before, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))

        await _run_and_kill(env, db_path, proposal.id, "before-send")

        async with _restarted(env, db_path) as (executor, reconciler):
            await reconciler.startup()
            await _drained(executor)

        failed = await env.store.get_proposal(proposal.id)
        assert failed is not None and failed.state is ProposalState.FAILED and failed.result is not None
        assert "did not take effect. Nothing was resent" in failed.result.message
        assert env.admin_operators == [] and env.cluster.sent == []
        leader = env.model.region(region).leader
        assert leader is not None and leader.store_id == leader_before
