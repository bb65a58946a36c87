"""The executor: one claim, one PD write, the operator followed to its end, outcomes people understand."""

from __future__ import annotations

import asyncio
from typing import Any

from actions_support import Env, RecordingNotifier, approved_proposal, ops_env, transfer_leader

from actions.errors import ClusterUnavailable, StorageUnavailable
from actions.executor import NOT_RECORDED_YET, Executor
from actions.models import ActionRequest, ActionType, CheckStatus, OperatorOutcome, PDRequest, ProposalState
from actions.ports import AuditQuery


async def _intents(env: Env, proposal_id: int) -> list[dict[str, object] | None]:
    rows = await env.store.query_audit(AuditQuery(proposal_id=proposal_id, limit=50))
    return [r.result_json for r in rows if r.caller_id == f"tikv-chatops/{proposal_id}"]


async def test_execute_sends_once_with_the_caller_id_and_follows_the_operator_to_success() -> None:
    """The write carries X-Caller-ID tikv-chatops/<id>; progress is shown, verified and recorded once."""
    async with ops_env(step_delay=0.3) as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        result = await env.executor.execute(proposal)
        assert result is not None and result.state is ProposalState.SUCCEEDED
        assert result.operator is OperatorOutcome.RUNNING
        assert [caller for _, caller in env.cluster.sent] == [f"tikv-chatops/{proposal.id}"]
        await env.executor.drain()
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert done.result.operator is OperatorOutcome.SUCCESS
        assert done.result.verification is not None and done.result.verification.status is CheckStatus.PASS
        assert done.result.message.startswith(f"PD finished the operator on region {region}")
        texts = [t for pid, t in env.notifier.progress_texts if pid == proposal.id]
        assert texts[0].endswith("RUNNING") and texts[-1].endswith("SUCCESS")
        assert [p.id for p, _ in env.notifier.finished_results] == [proposal.id]
        [intent] = await _intents(env, proposal.id)
        assert intent is not None and intent["operator"] == "SUCCESS"
        assert env.admin_operators == [("admin-transfer-leader", region)]


async def test_a_pd_refusal_fails_with_pd_reason_explained() -> None:
    """PD's "no voter" refusal becomes FAILED with a sentence saying what to pick instead."""
    async with ops_env() as env:
        region, _, _ = env.transfer_target()
        stranger = env.store_without_peer(region)
        proposal = await approved_proposal(env, transfer_leader(region, stranger))
        result = await env.executor.execute(proposal)
        assert result is not None and result.state is ProposalState.FAILED
        assert result.message == (
            f"PD refused: region {region} has no voter on store {stranger} — "
            "pick a store that holds a voter of this region."
        )
        assert result.pd_status == 500
        failed = await env.ops.get(proposal.id)
        assert failed.state is ProposalState.FAILED
        assert env.notifier.finished_results[-1][1].message == result.message
        assert env.admin_operators == []


async def test_pd_unreachable_before_sending_fails_and_says_nothing_was_sent() -> None:
    """A connection that never opened is a certain failure: nothing reached PD."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        env.cluster.send_error = ClusterUnavailable("connection refused", maybe_sent=False)
        result = await env.executor.execute(proposal)
        assert result is not None and result.state is ProposalState.FAILED
        assert result.message == "PD unreachable, nothing was sent (connection refused)."
        assert env.admin_operators == []


async def test_a_write_in_doubt_is_unknown_then_settled_from_pd_without_resending() -> None:
    """PD took the write but the answer was lost: UNKNOWN first, then SUCCEEDED from the operator status."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        env.cluster.error_after_send = ClusterUnavailable("read timed out", maybe_sent=True)
        result = await env.executor.execute(proposal)
        assert result is not None and result.state is ProposalState.UNKNOWN
        assert result.message == (
            "PD did not answer; the request may have reached PD. The bot will check the operator status."
        )
        await env.executor.drain()
        settled = await env.ops.get(proposal.id)
        assert settled.state is ProposalState.SUCCEEDED
        assert settled.result is not None and settled.result.operator is OperatorOutcome.SUCCESS
        assert len(env.cluster.sent) == 1
        assert env.admin_operators == [("admin-transfer-leader", region)]
        moves = [(e.from_state, e.to_state) for e in await env.store.events(proposal.id)]
        assert moves[-2:] == [("executing", "unknown"), ("unknown", "succeeded")]


async def test_a_write_in_doubt_that_never_arrived_stays_unknown_and_is_not_resent() -> None:
    """No operator ever appears and the leader did not move: it stays UNKNOWN with advice, never resent."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        env.cluster.send_error = ClusterUnavailable("connection reset", maybe_sent=True)
        await env.executor.execute(proposal)
        await env.executor.drain()
        stuck = await env.ops.get(proposal.id)
        assert stuck.state is ProposalState.UNKNOWN and stuck.result is not None
        assert "does not show the change" in stuck.result.message
        assert "the bot will not resend it" in stuck.result.message
        assert len(env.cluster.sent) == 1 and env.admin_operators == []


async def test_an_operator_cancelled_in_pd_ends_failed() -> None:
    """When someone cancels the operator in PD, the proposal moves from succeeded to failed and says why."""
    async with ops_env(step_delay=0.2) as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))

        async def cancel_in_pd(request: PDRequest) -> None:
            env.model.operators.cancel(region)

        env.cluster.after_send = cancel_in_pd
        await env.executor.execute(proposal)
        await env.executor.drain()
        failed = await env.ops.get(proposal.id)
        assert failed.state is ProposalState.FAILED and failed.result is not None
        assert failed.result.operator is OperatorOutcome.CANCEL
        assert f"The operator on region {region} was cancelled before it finished" in failed.result.message
        [intent] = await _intents(env, proposal.id)
        assert intent is not None and intent["state"] == "failed"


async def test_two_executors_racing_for_one_proposal_send_once() -> None:
    """Two replicas executing the same approved proposal: one claims and sends, the other gets None."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        other = Executor(env.cluster, env.store, env.notifier, env.clock, poll_interval=0.01)
        try:
            results = await asyncio.gather(env.executor.execute(proposal), other.execute(proposal))
            await asyncio.gather(env.executor.drain(), other.drain())
        finally:
            await other.aclose()
        assert sorted(r is None for r in results) == [False, True]
        assert len(env.cluster.sent) == 1
        assert env.admin_operators == [("admin-transfer-leader", region)]


async def test_notifier_failures_are_logged_and_the_outcome_stands() -> None:
    """Every notifier call failing changes nothing recorded."""
    async with ops_env(notifier=RecordingNotifier(fail=True)) as env:
        request = ActionRequest(
            action=ActionType.EVICT_LEADER,
            params={"store_id": sorted(env.model.stores)[0]},
            requester="U0REQ",
        )
        proposal = await approved_proposal(env, request)
        result = await env.executor.execute(proposal)
        await env.executor.drain()
        assert result is not None and result.state is ProposalState.SUCCEEDED
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert done.result.verification is not None
        assert done.result.message.startswith("PD shows the change")


async def test_aclose_stops_following_and_leaves_the_record_for_the_reconciler() -> None:
    """Shutting down mid-operator cancels the follower; the proposal keeps operator RUNNING on record."""
    async with ops_env(step_delay=30.0) as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        await env.executor.execute(proposal)
        assert env.executor.is_busy(proposal.id)
        await env.executor.aclose()
        assert not env.executor.is_busy(proposal.id)
        left = await env.ops.get(proposal.id)
        assert left.state is ProposalState.SUCCEEDED
        assert left.result is not None and left.result.operator is OperatorOutcome.RUNNING


def _refuse_results(env: Env, times: int) -> list[int]:
    """The store refuses the next ``times`` results as a full disk would; returns the attempts made."""
    attempts: list[int] = []
    finish = env.store.finish_execution

    async def flaky_finish(proposal_id: int, **kwargs: Any) -> bool:
        attempts.append(proposal_id)
        if len(attempts) <= times:
            raise StorageUnavailable("could not record the result: the disk is full")
        return await finish(proposal_id, **kwargs)

    env.store.finish_execution = flaky_finish  # type: ignore[method-assign]
    return attempts


async def test_a_refusal_the_database_cannot_record_yet_is_told_and_recorded_once_it_can() -> None:
    """PD refuses, the database refuses the result twice: the caller hears PD's refusal and that it is not
    recorded yet; the result is recorded on the third try, people are told once, PD got one write."""
    async with ops_env() as env:
        region, _, _ = env.transfer_target()
        stranger = env.store_without_peer(region)
        proposal = await approved_proposal(env, transfer_leader(region, stranger))
        attempts = _refuse_results(env, 2)
        result = await env.executor.execute(proposal)
        assert result is not None and result.state is ProposalState.FAILED
        assert result.message.startswith("PD refused") and result.message.endswith(NOT_RECORDED_YET)
        assert env.executor.is_busy(proposal.id)
        assert (await env.ops.get(proposal.id)).state is ProposalState.EXECUTING
        await asyncio.wait_for(env.executor.drain(), timeout=10)
        failed = await env.ops.get(proposal.id)
        assert failed.state is ProposalState.FAILED and failed.result is not None
        assert (
            failed.result.message.startswith("PD refused") and NOT_RECORDED_YET not in failed.result.message
        )
        assert attempts == [proposal.id] * 3 and len(env.cluster.sent) == 1
        assert [p.id for p, _ in env.notifier.finished_results] == [proposal.id]
        [intent] = await _intents(env, proposal.id)
        assert intent is not None and intent["state"] == "failed"


async def test_a_change_the_database_cannot_record_yet_is_settled_from_pd_without_resending() -> None:
    """PD accepts an evict-leader, the database refuses the result once: the executor keeps going, records
    PD's answer once it can and settles the proposal from what PD shows; PD got one write."""
    async with ops_env() as env:
        request = ActionRequest(
            action=ActionType.EVICT_LEADER,
            params={"store_id": sorted(env.model.stores)[0]},
            requester="U0REQ",
        )
        proposal = await approved_proposal(env, request)
        attempts = _refuse_results(env, 1)
        result = await env.executor.execute(proposal)
        assert result is not None and result.state is ProposalState.SUCCEEDED
        assert "PD accepted" in result.message and result.message.endswith(NOT_RECORDED_YET)
        await asyncio.wait_for(env.executor.drain(), timeout=10)
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert done.result.message.startswith("PD shows the change")
        assert len(attempts) == 2 and len(env.cluster.sent) == 1
        assert [p.id for p, _ in env.notifier.finished_results] == [proposal.id]
        moves = [(e.from_state, e.to_state) for e in await env.store.events(proposal.id)]
        assert moves[-1] == ("executing", "succeeded")


class _BrokenStore(Exception):
    """A store failure that is not an unavailable database (a bug, a corrupt row)."""


async def test_a_result_the_store_fails_to_record_for_another_reason_is_not_promised_later() -> None:
    """Only an unavailable database is retried: any other store failure recording PD's answer propagates
    at once instead of telling the approver it will be recorded later; PD still got one write."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))

        async def broken_finish(proposal_id: int, **kwargs: Any) -> bool:
            raise _BrokenStore("no such column: result_json")

        env.store.finish_execution = broken_finish  # type: ignore[method-assign]
        try:
            await env.executor.execute(proposal)
        except _BrokenStore:
            pass
        else:
            raise AssertionError("the store's failure was swallowed")
        assert not env.executor.is_busy(proposal.id) and len(env.cluster.sent) == 1


async def test_a_follower_that_fails_still_lets_the_refused_result_be_recorded() -> None:
    """The database refuses PD's answer twice, then following the operator fails on a bug while the
    recording waits to retry: it is awaited, not cancelled, so PD's answer ends up recorded."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await approved_proposal(env, transfer_leader(region, target))
        attempts = _refuse_results(env, 2)

        async def broken_get_operator(region_id: int) -> Any:
            await asyncio.sleep(0)
            raise RuntimeError("a bug in the adapter")

        env.cluster.get_operator = broken_get_operator  # type: ignore[method-assign]
        result = await env.executor.execute(proposal)
        assert result is not None and result.message.endswith(NOT_RECORDED_YET)
        await asyncio.wait_for(env.executor.drain(), timeout=10)
        recorded = await env.ops.get(proposal.id)
        assert len(attempts) == 3, attempts
        assert recorded.state is ProposalState.SUCCEEDED and recorded.result is not None
        assert recorded.result.message == result.message.removesuffix(f" {NOT_RECORDED_YET}")
        assert len(env.cluster.sent) == 1
