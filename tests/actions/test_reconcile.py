"""The reconciler: settling what a crash left executing, resuming, reverting temporary changes, expiring."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from actions_support import ALICE, REQUESTER, Env, approved_proposal, ops_env, transfer_leader

from actions.audit import intent_entry
from actions.catalog import CATALOG
from actions.errors import StorageUnavailable
from actions.models import ActionRequest, ActionType, OperatorOutcome, Proposal, ProposalState
from actions.operations import Operations
from actions.ports import AuditQuery
from actions.reconcile import Reconciler


async def _claim(env: Env, proposal: Proposal) -> int:
    """What a crashed executor left behind: approved -> executing and the intent row, no result."""
    spec = CATALOG[proposal.request.action]
    intent = intent_entry(
        proposal,
        actor=ALICE.user_id,
        pd_request=spec.pd_request(proposal.request.params),
        pd_ctl=spec.pd_ctl(proposal.request.params),
        now=env.clock.now,
    )
    log_id = await env.store.claim_for_execution(proposal.id, intent=intent, now=env.clock.now)
    assert log_id is not None
    return log_id


def _evict(store_id: int, *, revert_after: int | None = None) -> ActionRequest:
    return ActionRequest(
        action=ActionType.EVICT_LEADER,
        params={"store_id": store_id},
        requester=REQUESTER.user_id,
        revert_after_seconds=revert_after,
    )


async def test_a_proposal_left_executing_is_settled_from_the_operator_status_without_resending() -> None:
    """Intent committed and the write sent, then a crash: reconcile reads PD's operator and follows it."""
    async with ops_env(step_delay=0.5) as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        log_id = await _claim(env, proposal)
        spec = CATALOG[ActionType.TRANSFER_LEADER]
        await env.pd.send(spec.pd_request(proposal.request.params), caller_id=f"tikv-chatops/{proposal.id}")

        settled = await env.reconciler.reconcile_executing()
        await env.executor.drain()

        assert [p.id for p in settled] == [proposal.id]
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert done.result.operator is OperatorOutcome.SUCCESS
        assert env.cluster.sent == []  # the reconciler and the follower only read
        assert env.admin_operators == [("admin-transfer-leader", region)]
        rows = await env.store.query_audit(AuditQuery(proposal_id=proposal.id, limit=50))
        intent = next(r for r in rows if r.id == log_id)
        assert intent.result_json is not None and intent.result_json["state"] == "succeeded"
        [note] = [r for r in rows if r.actor == "tikv-chatops/reconciler"]
        assert note.result_json is not None and note.result_json["operator"] == "RUNNING"
        assert "Found after a restart: PD is running the operator" in note.result_json["found"]
        moves = [(e.from_state, e.to_state) for e in await env.store.events(proposal.id)]
        assert ("executing", "succeeded") in moves


async def test_an_operator_that_finished_while_the_bot_was_down_is_recorded_as_it_ended() -> None:
    """The operator already succeeded when the bot restarts: succeeded, verified, nothing to follow."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _claim(env, proposal)
        spec = CATALOG[ActionType.TRANSFER_LEADER]
        await env.pd.send(spec.pd_request(proposal.request.params), caller_id=f"tikv-chatops/{proposal.id}")
        for _ in range(500):
            if env.model.operators.get(region) is None:
                break
            await asyncio.sleep(0.01)
        await env.reconciler.reconcile_executing()
        assert not env.executor.is_busy(proposal.id)
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert done.result.operator is OperatorOutcome.SUCCESS
        assert done.result.verification is not None and done.result.verification.status.value == "pass"
        assert env.cluster.sent == []


async def test_a_write_that_never_left_is_settled_failed_and_not_sent() -> None:
    """Intent committed, crash before the send: no operator and no change in PD, so it failed; not sent."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _claim(env, proposal)
        await env.reconciler.reconcile_executing()
        failed = await env.ops.get(proposal.id)
        assert failed.state is ProposalState.FAILED and failed.result is not None
        assert "so the request did not take effect. Nothing was resent" in failed.result.message
        assert env.cluster.sent == [] and env.admin_operators == []
        assert env.notifier.finished_results[-1][0].id == proposal.id


async def test_a_scheduler_change_left_executing_is_settled_from_the_scheduler_list() -> None:
    """For evict-leader the reconciler asks PD's evict-leader store list, not an operator."""
    async with ops_env() as env:
        store_id = sorted(env.model.stores)[0]
        proposal = await approved_proposal(env, _evict(store_id))
        await _claim(env, proposal)
        spec = CATALOG[ActionType.EVICT_LEADER]
        await env.pd.send(spec.pd_request(proposal.request.params), caller_id=f"tikv-chatops/{proposal.id}")
        await env.reconciler.reconcile_executing()
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert done.result.message.startswith("Found after a restart: PD shows the change")
        assert env.cluster.sent == []


async def test_proposals_stay_executing_while_pd_cannot_be_asked() -> None:
    """With every PD member down nothing is decided; the next pass settles it."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await _claim(env, proposal)
        for member in list(env.model.members):
            await env.server.stop_member(member.name)
        assert await env.reconciler.reconcile_executing() == []
        assert (await env.ops.get(proposal.id)).state is ProposalState.EXECUTING
        for member in list(env.model.members):
            await env.server.start_member(member.name)
        env.model.set_pd_leader(env.model.members[0].name)
        assert [p.id for p in await env.reconciler.reconcile_executing()] == [proposal.id]


async def test_startup_runs_approved_proposals_nobody_claimed_once() -> None:
    """A crash between the last approval and the claim: at start the proposal runs, exactly once."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await env.reconciler.startup()
        await env.reconciler.startup()
        await env.executor.drain()
        assert (await env.ops.get(proposal.id)).state is ProposalState.SUCCEEDED
        assert len(env.cluster.sent) == 1


async def test_startup_resumes_following_an_operator_a_shutdown_interrupted() -> None:
    """A proposal recorded with its operator RUNNING is followed again after a restart."""
    async with ops_env(step_delay=0.3) as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await env.executor.execute(proposal)
        await env.executor.aclose()
        interrupted = await env.ops.get(proposal.id)
        assert interrupted.result is not None and interrupted.result.operator is OperatorOutcome.RUNNING
        await env.reconciler.startup()
        await env.executor.drain()
        done = await env.ops.get(proposal.id)
        assert done.result is not None and done.result.operator is OperatorOutcome.SUCCESS
        assert len(env.cluster.sent) == 1


async def test_a_temporary_change_is_reverted_once_when_due() -> None:
    """evict-leader for 10 minutes: nothing before, one recorded system revert after, never a second."""
    async with ops_env() as env:
        store_id = sorted(env.model.stores)[0]
        proposal = await env.ops.propose(_evict(store_id, revert_after=600), actor=REQUESTER)
        assert proposal.revert_at == env.clock.now + timedelta(minutes=10)
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.executor.drain()
        assert store_id in await env.pd.get_evict_leader_store_ids()

        assert await env.reconciler.revert_due(env.clock.now + timedelta(minutes=9)) == []
        env.clock.advance(timedelta(minutes=11))
        reverts, again = await asyncio.gather(
            env.reconciler.revert_due(env.clock.now), env.reconciler.revert_due(env.clock.now)
        )
        await env.executor.drain()

        [revert] = reverts + again
        assert (revert.undo_of, revert.request.action) == (proposal.id, ActionType.REMOVE_EVICT_LEADER)
        assert revert.requester == "tikv-chatops/reconciler"
        assert (await env.ops.get(revert.id)).state is ProposalState.SUCCEEDED
        assert store_id not in await env.pd.get_evict_leader_store_ids()
        assert await env.reconciler.revert_due(env.clock.now + timedelta(hours=1)) == []
        assert [caller for _, caller in env.cluster.sent] == [
            f"tikv-chatops/{proposal.id}",
            f"tikv-chatops/{revert.id}",
        ]
        [intent] = [
            r
            for r in await env.store.query_audit(AuditQuery(proposal_id=revert.id))
            if r.caller_id == f"tikv-chatops/{revert.id}"
        ]
        assert intent.actor == "tikv-chatops/reconciler"


async def test_a_revert_with_nothing_left_to_revert_is_recorded_and_skipped() -> None:
    """If someone already removed the eviction, the revert is superseded with the reason, not sent."""
    async with ops_env() as env:
        store_id = sorted(env.model.stores)[0]
        proposal = await env.ops.propose(_evict(store_id, revert_after=60), actor=REQUESTER)
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.executor.drain()
        remove = CATALOG[ActionType.REMOVE_EVICT_LEADER].pd_request({"store_id": store_id})
        await env.pd.send(remove, caller_id="pd-ctl")
        env.clock.advance(timedelta(minutes=2))
        [revert] = await env.reconciler.revert_due(env.clock.now)
        assert revert.state is ProposalState.SUPERSEDED
        [event] = [e for e in await env.store.events(revert.id) if e.to_state == "superseded"]
        assert event.detail["reason"].startswith("Nothing to revert")
        assert len(env.cluster.sent) == 1
        assert await env.reconciler.revert_due(env.clock.now) == []


async def test_sweep_expires_pending_proposals_and_rewrites_their_cards() -> None:
    """Past their TTL, pending proposals become expired and their cards say so."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        assert await env.reconciler.sweep_expired(env.clock.now) == []
        [expired] = await env.reconciler.sweep_expired(env.clock.now + timedelta(hours=2))
        assert expired.id == proposal.id and expired.state is ProposalState.EXPIRED
        assert env.notifier.updates[-1].state is ProposalState.EXPIRED


async def test_run_background_expires_and_stops_when_asked() -> None:
    """The background loop does its passes until the stop event is set."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        env.clock.advance(timedelta(hours=2))
        stop = asyncio.Event()
        env.notifier.rewritten.clear()
        loop = asyncio.create_task(env.reconciler.run_background(stop, interval=0.01))
        await asyncio.wait_for(
            env.notifier.rewritten.wait(), timeout=30
        )  # the sweep rewrites the card it expired
        assert (await env.ops.get(proposal.id)).state is ProposalState.EXPIRED
        assert env.notifier.updates[-1].state is ProposalState.EXPIRED
        stop.set()
        await asyncio.wait_for(loop, timeout=30)


async def test_a_temporary_change_approved_late_still_lasts_as_long_as_asked() -> None:
    """Approved 50 minutes after it was proposed, a 10-minute eviction is reverted 10 minutes after it ran."""
    async with ops_env() as env:
        store_id = sorted(env.model.stores)[0]
        proposed_at = env.clock.now
        proposal = await env.ops.propose(_evict(store_id, revert_after=600), actor=REQUESTER)
        env.clock.advance(timedelta(minutes=50))
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.executor.drain()
        assert await env.reconciler.revert_due(proposed_at + timedelta(minutes=59)) == []
        [revert] = await env.reconciler.revert_due(proposed_at + timedelta(minutes=61))
        assert revert.undo_of == proposal.id


async def test_the_reconciler_reverts_through_operations() -> None:
    """The revert is ``Operations.revert``: the reconciler given a facade hands it each change due."""
    async with ops_env() as env:
        store_id = sorted(env.model.stores)[0]
        proposal = await env.ops.propose(_evict(store_id, revert_after=60), actor=REQUESTER)
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.executor.drain()
        handed: list[int] = []

        class Facade(Operations):
            async def revert(self, original: Proposal, *, now: datetime) -> Proposal | None:
                handed.append(original.id)
                return await super().revert(original, now=now)

        facade = Facade(env.cluster, env.store, env.notifier, env.policy, env.executor, env.clock)
        reconciler = Reconciler(
            env.cluster, env.store, env.notifier, env.executor, env.policy, env.clock, operations=facade
        )
        env.clock.advance(timedelta(minutes=2))
        [revert] = await reconciler.revert_due(env.clock.now)
        await env.executor.drain()
        assert handed == [proposal.id]
        assert (await env.ops.get(revert.id)).state is ProposalState.SUCCEEDED
        assert store_id not in await env.pd.get_evict_leader_store_ids()


async def test_a_revert_runs_even_when_its_cards_place_cannot_be_stored() -> None:
    """Nobody waits on an automatic revert: a database refusing to note its card is logged, not raised,
    and the revert is still approved and sent (a person's proposal would hear ``PartlyRecorded``)."""
    async with ops_env() as env:
        store_id = sorted(env.model.stores)[0]
        proposal = await env.ops.propose(_evict(store_id, revert_after=60), actor=REQUESTER)
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.executor.drain()

        async def locked(proposal_id: int, *, channel: str, message_ts: str) -> None:
            raise StorageUnavailable("database is locked")

        env.store.set_card = locked
        env.clock.advance(timedelta(minutes=2))
        [revert] = await env.reconciler.revert_due(env.clock.now)
        await env.executor.drain()
        assert revert.undo_of == proposal.id
        assert (await env.ops.get(revert.id)).state is ProposalState.SUCCEEDED
        assert store_id not in await env.pd.get_evict_leader_store_ids()


async def test_each_clusters_reconciler_settles_only_its_own_executing_and_followed_proposals() -> None:
    """Several clusters on one database: prod's reconciler neither asks its PD about nor settles a
    staging proposal left executing, nor follows it again; staging's own reconciler does."""
    from actions.executor import Executor
    from actions.reconcile import Reconciler

    async with ops_env(step_delay=0.5) as env:
        region, _, target = env.transfer_target()
        staging = transfer_leader(region, target).model_copy(update={"cluster": "staging"})
        proposal = await approved_proposal(env, staging)
        await _claim(env, proposal)

        prod_runner = Executor(env.cluster, env.store, env.notifier, env.clock, cluster_name="prod")
        prod = Reconciler(env.cluster, env.store, env.notifier, prod_runner, env.policy, env.clock)
        operator_reads = env.cluster.operator_reads
        assert await prod.reconcile_executing() == []
        assert await prod.resume_following() == 0
        assert (await env.ops.get(proposal.id)).state is ProposalState.EXECUTING
        assert env.cluster.sent == [] and env.cluster.operator_reads == operator_reads

        staging_runner = Executor(env.cluster, env.store, env.notifier, env.clock, cluster_name="staging")
        mine = Reconciler(env.cluster, env.store, env.notifier, staging_runner, env.policy, env.clock)
        settled = await mine.reconcile_executing()
        assert [p.id for p in settled] == [proposal.id]
        await staging_runner.aclose()
        await prod_runner.aclose()


async def test_a_revert_that_expired_unapproved_undid_nothing_and_is_made_again() -> None:
    """A revert cut off between its creation and its approval (the sweeper's lease lost right there)
    expires; the change it was to undo is still due, so the next sweep reverts it after all."""
    async with ops_env() as env:
        store_id = sorted(env.model.stores)[0]
        proposal = await env.ops.propose(_evict(store_id, revert_after=60), actor=REQUESTER)
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.executor.drain()
        original = await env.ops.get(proposal.id)
        assert original.preflight is not None
        stranded = await env.store.create_proposal(
            request=original.request,
            tier=original.tier,
            approvals_required=1,
            preflight=original.preflight,
            expires_at=env.clock.now + timedelta(seconds=30),
            now=env.clock.now,
            undo_of=original.id,
        )
        env.clock.advance(timedelta(minutes=2))
        await env.reconciler.sweep_expired(env.clock.now)
        assert (await env.ops.get(stranded.id)).state is ProposalState.EXPIRED
        [revert] = await env.reconciler.revert_due(env.clock.now)
        await env.executor.drain()
        assert revert.id != stranded.id and revert.undo_of == original.id
        assert (await env.ops.get(revert.id)).state is ProposalState.SUCCEEDED
        assert store_id not in await env.pd.get_evict_leader_store_ids()
        assert await env.reconciler.revert_due(env.clock.now) == []  # a succeeded revert counts
