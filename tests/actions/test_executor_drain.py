"""offline-store is followed to its real end: the store is a Tombstone, not merely Offline."""

from __future__ import annotations

from actions_support import REQUESTER, approved_proposal, ops_env
from test_reconcile import _claim

from actions.catalog import CATALOG
from actions.executor import Executor, drain_progress
from actions.models import ActionRequest, ActionType, CheckStatus, OperatorOutcome, ProposalState
from actions.verify import Verdict, verify


def offline(store_id: int) -> ActionRequest:
    return ActionRequest(
        action=ActionType.OFFLINE_STORE, params={"store_id": store_id}, requester=REQUESTER.user_id
    )


async def test_offline_store_is_followed_until_tombstone_with_the_regions_left_shown() -> None:
    """The drain is told region by region; it succeeds only once PD reports the store Tombstone."""
    async with ops_env(stores=5, regions=30) as env:
        env.model.drain_per_minute = 300.0  # a few regions a second: the drain takes seconds
        store_id = 4
        before = len(env.model.store(store_id).region_ids)
        proposal = await approved_proposal(env, offline(store_id))
        result = await env.executor.execute(proposal)
        assert result is not None and result.state is ProposalState.SUCCEEDED
        assert result.operator is OperatorOutcome.RUNNING  # under way, not done
        # While Offline the verification refuses to call it done.
        check = await verify(proposal.request, {}, env.cluster)
        assert check.verdict is Verdict.REFUTED and "still Offline" in check.evidence
        assert check.check.status is CheckStatus.FAIL
        await env.executor.drain()
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert env.model.state_name(env.model.store(store_id)) == "Tombstone"
        assert f"store {store_id} is Tombstone" in done.result.message
        assert done.result.verification is not None and done.result.verification.status is CheckStatus.PASS
        texts = [t for pid, t in env.notifier.progress_texts if pid == proposal.id]
        assert texts[0].startswith(f"store {store_id} is Offline: ") and "regions left to move" in texts[0]
        lefts = [int(t.split(": ")[1].split(" ")[0]) for t in texts if "regions left" in t]
        assert lefts == sorted(lefts, reverse=True) and lefts[0] <= before and len(lefts) >= 2
        assert texts[-1] == f"store {store_id} is Tombstone: drained"


async def test_a_drain_past_its_ceiling_is_not_called_a_success() -> None:
    """When the bot stops watching an Offline store, the outcome is unknown, never Succeeded."""
    async with ops_env(stores=5, regions=30) as env:
        env.model.drain_per_minute = 0.0  # PD never gets to move anything
        executor = Executor(
            env.cluster, env.store, env.notifier, env.clock, poll_interval=0.01, drain_timeout=0.3
        )
        proposal = await approved_proposal(env, offline(4))
        await executor.execute(proposal)
        await executor.drain()
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.UNKNOWN and done.result is not None
        assert "still draining" in done.result.message and "regions were still on it" in done.result.message
        await executor.aclose()


async def test_a_cancelled_drain_fails() -> None:
    """Someone sets the store back Up mid-drain: the offline failed, and says so."""
    async with ops_env(stores=5, regions=30) as env:
        env.model.drain_per_minute = 0.0
        proposal = await approved_proposal(env, offline(4))
        await env.executor.execute(proposal)
        env.model.up_store(4)
        await env.executor.drain()
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.FAILED and done.result is not None
        assert "store 4 is Up again" in done.result.message


def test_drain_progress_reads_well() -> None:
    assert drain_progress(5, 37, 50) == "store 5 is Offline: 37 regions left to move (13 of 50 moved)"


async def test_a_drain_interrupted_by_a_restart_is_followed_again_to_tombstone() -> None:
    """A crash after PD set the store Offline: the reconciler finds the drain under way and follows it."""
    async with ops_env(stores=5, regions=30) as env:
        env.model.drain_per_minute = 300.0
        proposal = await approved_proposal(env, offline(4))
        await _claim(env, proposal)
        spec = CATALOG[ActionType.OFFLINE_STORE]
        await env.pd.send(spec.pd_request(proposal.request.params), caller_id=f"tikv-chatops/{proposal.id}")
        [found] = await env.reconciler.reconcile_executing()
        assert found.result is not None and found.result.operator is OperatorOutcome.RUNNING
        assert "following the drain" in found.result.message
        await env.executor.drain()
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert "is Tombstone" in done.result.message
        assert env.model.state_name(env.model.store(4)) == "Tombstone"


async def test_scatter_and_merge_are_followed_until_pd_reports_their_end() -> None:
    """Both make operators; each is told as it runs (one progress line) and settled only when PD says."""
    async with ops_env(stores=5, regions=30, step_delay=0.1) as env:
        ordered = sorted(env.model.regions.values(), key=lambda r: r.start_key)
        source, target = ordered[3].id, ordered[4].id
        merge = ActionRequest(
            action=ActionType.MERGE_REGION,
            params={"source_region_id": source, "target_region_id": target},
            requester=REQUESTER.user_id,
        )
        scatter = ActionRequest(
            action=ActionType.SCATTER_REGION,
            params={"region_id": ordered[10].id},
            requester=REQUESTER.user_id,
        )
        for request in (merge, scatter):
            proposal = await approved_proposal(env, request)
            result = await env.executor.execute(proposal)
            assert result is not None and result.state is ProposalState.SUCCEEDED, result
            await env.executor.drain()
            done = await env.ops.get(proposal.id)
            assert done.result is not None and done.result.finished_at is not None
            assert done.result.operator in (OperatorOutcome.SUCCESS, OperatorOutcome.NONE), done.result
            texts = [t for pid, t in env.notifier.progress_texts if pid == proposal.id]
            assert texts, "no progress was told"
        assert source not in env.model.regions  # merged away: the merge really ended
