"""Replicas: an in-flight proposal is another replica's while its heartbeat lives, and settled once it is
gone (or once it outlived the grace), by whichever replica runs the sweeper — never by two."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from actions_support import ALICE, Env, approved_proposal, ops_env, transfer_leader

from actions.audit import intent_entry
from actions.catalog import CATALOG
from actions.leases import ReplicaWatch, claimed_by, heartbeat_lease
from actions.models import ActionResult, OperatorOutcome, Proposal, ProposalState
from actions.ports import AuditQuery
from actions.reconcile import Reconciler

TTL = timedelta(seconds=3)
GRACE = timedelta(minutes=2)


def _reconciler(env: Env, me: str) -> Reconciler:
    watch = ReplicaWatch(env.store, me=me, ttl=TTL, clock=env.clock)
    return Reconciler(
        env.cluster, env.store, env.notifier, env.executor, env.policy, env.clock, grace=GRACE, replicas=watch
    )


async def _claimed_by(env: Env, proposal: Proposal, replica: str) -> int:
    """What replica ``replica`` leaves when it dies after its claim: executing, an intent naming it."""
    spec = CATALOG[proposal.request.action]
    intent = intent_entry(
        proposal,
        actor=ALICE.user_id,
        pd_request=spec.pd_request(proposal.request.params),
        pd_ctl=spec.pd_ctl(proposal.request.params),
        now=env.clock.now,
        replica=replica,
    )
    log_id = await env.store.claim_for_execution(proposal.id, intent=intent, now=env.clock.now)
    assert log_id is not None
    rows = await env.store.query_audit(AuditQuery(proposal_id=proposal.id, limit=10))
    assert claimed_by(next(r for r in rows if r.id == log_id)) == replica
    return log_id


async def _heartbeat(env: Env, replica: str) -> None:
    assert await env.store.acquire_lease(heartbeat_lease(replica), owner=replica, ttl=TTL, now=env.clock.now)


async def test_a_live_replicas_claim_is_left_alone_and_settled_once_its_heartbeat_lapses() -> None:
    async with ops_env() as env:
        region, leader, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _heartbeat(env, "b")
        await _claimed_by(env, proposal, "b")
        a = _reconciler(env, "a")

        assert await a.reconcile_executing(older_than=GRACE) == []  # b is alive: its write may be on its way
        assert (await env.ops.get(proposal.id)).state is ProposalState.EXECUTING

        env.clock.advance(TTL)  # b stopped renewing: its heartbeat lapses
        [settled] = await a.reconcile_executing(older_than=GRACE)
        assert settled.id == proposal.id and settled.state is ProposalState.FAILED
        assert settled.result is not None and "Nothing was resent" in settled.result.message
        assert env.cluster.sent == [] and env.admin_operators == []
        assert env.model.region(region).leader is not None
        assert env.model.region(region).leader.store_id == leader
        # The probe gave b's heartbeat back: b, were it only paused, takes it again.
        assert await env.store.acquire_lease(heartbeat_lease("b"), owner="b", ttl=TTL, now=env.clock.now)


async def test_a_claim_older_than_the_grace_is_settled_even_while_its_replica_renews() -> None:
    """A replica that renews its heartbeat but never finishes (hung on its database) is not waited for."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _claimed_by(env, proposal, "b")
        env.clock.advance(GRACE)
        await _heartbeat(env, "b")
        settled = await _reconciler(env, "a").reconcile_executing(older_than=GRACE)
        assert [p.id for p in settled] == [proposal.id]


async def test_this_replicas_own_claim_is_left_to_its_executor_except_at_start() -> None:
    """In the periodic pass a claim naming this replica belongs to its executor (or to the grace); at start
    it was made by an earlier process with the same id, which is gone."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _claimed_by(env, proposal, "a")
        a = _reconciler(env, "a")
        assert await a.reconcile_executing(older_than=GRACE) == []
        assert [p.id for p in await a.reconcile_executing(at_start=True)] == [proposal.id]


async def test_startup_waits_for_a_crashed_replicas_heartbeat_to_lapse_then_settles_before_serving() -> None:
    """The previous process (another id) was SIGKILLed a moment ago: its heartbeat still looks alive, so
    the start waits until it lapses (at most a heartbeat's lifetime), then settles its claim."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _heartbeat(env, "old")
        await _claimed_by(env, proposal, "old")

        async def lapse() -> None:
            await asyncio.sleep(0.5)
            env.clock.advance(TTL)

        lapsing = asyncio.create_task(lapse())
        await _reconciler(env, "new").startup()
        await lapsing
        assert (await env.ops.get(proposal.id)).state is ProposalState.FAILED


async def test_startup_leaves_a_live_replicas_claim_to_it_after_waiting_a_heartbeat() -> None:
    """A rolling deploy: the other replica is alive (renewing); the new one waits at most 4/3 ttl, then
    serves and leaves the proposal executing for its owner."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _claimed_by(env, proposal, "b")
        stop = asyncio.Event()

        async def renew() -> None:
            while not stop.is_set():
                await _heartbeat(env, "b")
                await asyncio.sleep(0.2)

        renewing = asyncio.create_task(renew())
        loop = asyncio.get_running_loop()
        started = loop.time()
        await _reconciler(env, "a").startup()
        stop.set()
        await renewing
        assert loop.time() - started >= TTL.total_seconds()  # it did wait a heartbeat's lifetime
        assert (await env.ops.get(proposal.id)).state is ProposalState.EXECUTING


async def test_the_sweeper_follows_again_what_a_gone_replica_was_following() -> None:
    """b sent the write and died while following the operator: the sweeper owner follows it to its end."""
    async with ops_env(step_delay=0.3) as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        log_id = await _claimed_by(env, proposal, "b")
        spec = CATALOG[proposal.request.action]
        await env.pd.send(spec.pd_request(proposal.request.params), caller_id=f"tikv-chatops/{proposal.id}")
        running = ActionResult(
            state=ProposalState.SUCCEEDED,
            message="PD accepted the request and created the operator; following it.",
            operator=OperatorOutcome.RUNNING,
            pd_request=spec.pd_request(proposal.request.params),
            caller_id=f"tikv-chatops/{proposal.id}",
            started_at=env.clock.now,
        )
        assert await env.store.finish_execution(proposal.id, log_id=log_id, result=running, now=env.clock.now)
        await _heartbeat(env, "b")
        a = _reconciler(env, "a")
        assert await a.resume_following() == 0  # b is alive and following it
        env.clock.advance(TTL)
        assert await a.resume_following() == 1
        await env.executor.drain()
        done = await env.ops.get(proposal.id)
        assert done.result is not None and done.result.operator is OperatorOutcome.SUCCESS
        assert env.cluster.sent == []


async def test_a_claimer_known_dead_is_settled_at_start_without_waiting_for_its_heartbeat() -> None:
    """The same host's crashed process (its pid gone): no wait for the heartbeat it left behind."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _heartbeat(env, "host-123")
        await _claimed_by(env, proposal, "host-123")
        watch = ReplicaWatch(
            env.store,
            me="host-456",
            ttl=timedelta(minutes=10),
            clock=env.clock,
            known_dead={"host-123"}.__contains__,
        )
        reconciler = Reconciler(
            env.cluster, env.store, env.notifier, env.executor, env.policy, env.clock, replicas=watch
        )
        await asyncio.wait_for(reconciler.startup(), timeout=60)  # far less than the 10 min heartbeat
        assert (await env.ops.get(proposal.id)).state is ProposalState.FAILED
