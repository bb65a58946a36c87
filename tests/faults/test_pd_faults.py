"""PD failing under the bot — slow, 500s, no leader, an endpoint down — at each step of an action.

Each step meets each fault through the simulator's own knobs:

    preflight   /tikv <action> while PD fails     -> told ephemerally, an audit row, no card, no write
    execution   PD fails as the write arrives     -> the approver and the thread are told, the intent and
                                                     its outcome are audited, the write is never resent
    tracking    PD fails once it accepted it      -> the thread says PD cannot tell how it ended, audited

and afterwards the bot still serves: a status read is answered and another proposal runs to success.
An endpoint down is a PD member down with the bot given every member: it fails over and succeeds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from faults_support import ALICE, BOB, FaultEnv, eventually, fault_env, healthy_regions

from actions.models import ProposalState
from actions.ports import AuditQuery
from bot import texts
from bot.playground.model import Message

# PD answers slower than the bot waits for it (PD_TIMEOUT), so "slow" is a timeout, quickly.
PD_TIMEOUT = "0.3"
SLOW_SECONDS = 0.6


def _slow(env: FaultEnv) -> None:
    env.sim.faults.slow_seconds = SLOW_SECONDS


def _error_500(env: FaultEnv) -> None:
    env.sim.faults.error_500_rate = 1.0


def _no_leader(env: FaultEnv) -> None:
    env.sim.faults.no_leader = True


FAULTS: dict[str, Callable[[FaultEnv], None]] = {
    "slow": _slow,
    "500": _error_500,
    "503-no-leader": _no_leader,
}


def _heal(env: FaultEnv) -> None:
    env.sim.faults.clear()
    env.tap.on_write = env.tap.on_answer = None


async def _still_serving(env: FaultEnv, region: int, target: int) -> None:
    """A read is answered, and another proposal is approved, sent once and succeeds."""
    assert (await env.relay.command(ALICE, "status")).ok
    await env.fake.wait_for(
        lambda: [e for e in env.fake.ephemerals(user=ALICE) if e.text.startswith("Cluster status")]
    )
    card = await env.propose(ALICE, f"transfer-leader {region} {target}")
    proposal = await env.proposal(card)
    await env.click(BOB, card, texts.ActionId.APPROVE)
    await env.fake.wait_for(
        lambda: [r for r in env.replies(card) if r.text.startswith(f"✅ #{proposal.id} succeeded")],
        timeout=30,
    )
    assert env.leader_of(region) == target


async def _proposal_rows(env: FaultEnv, proposal_id: int) -> list[dict[str, object]]:
    """The proposal's PD-write rows (its timeline's other rows left out)."""
    rows = await env.bot.store.query_audit(AuditQuery(proposal_id=proposal_id))
    return [
        {"caller_id": r.caller_id, "result": r.result_json, "executed": r.executed_at is not None}
        for r in rows
        if r.event == "pd_request"
    ]


def _reply(env: FaultEnv, card: Message, prefix: str) -> Callable[[], Message | None]:
    return lambda: next((r for r in env.replies(card) if r.text.startswith(prefix)), None)


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_pd_failing_during_preflight_is_told_to_the_requester_and_audited(
    tmp_path: Path, fault: str
) -> None:
    """/tikv <action> while PD fails: an ephemeral naming PD's trouble, a refusal row, no card, no write."""
    async with fault_env(tmp_path, PD_TIMEOUT=PD_TIMEOUT) as env:
        (region, _leader, followers), other = healthy_regions(env.model)[:2]
        FAULTS[fault](env)
        delivery = await env.relay.command(ALICE, f"transfer-leader {region} {followers[0]}")
        assert delivery.ok, delivery.error

        refusal = await env.fake.wait_for(
            lambda: next((e for e in env.fake.ephemerals(user=ALICE) if "Not proposed" in e.text), None),
            timeout=30,
        )
        assert "PD unreachable" in refusal.text or "no leader" in refusal.text, refusal.text
        assert "Traceback" not in refusal.text
        [row] = await env.bot.store.query_audit(AuditQuery())
        assert row.proposal_id is None and row.actor == ALICE and not row.dry_run
        assert row.result_json is not None and row.result_json["refused"] == "preflight"
        assert env.cards() == [] and env.pd_writes() == [] and env.operators == []

        _heal(env)
        await _still_serving(env, other[0], other[2][0])


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_pd_failing_as_the_write_arrives_is_told_audited_and_not_resent(
    tmp_path: Path, fault: str
) -> None:
    """The write meets the fault: the approver and the thread hear it, the audit row has the intent and its
    outcome, PD received the write at most once, and the bot goes on serving."""
    async with fault_env(tmp_path, PD_TIMEOUT=PD_TIMEOUT, OPERATOR_FOLLOW_SECONDS="1") as env:
        (region, _leader, followers), other = healthy_regions(env.model)[:2]
        card = await env.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        proposal = await env.proposal(card)
        env.tap.on_write = lambda: FAULTS[fault](env)
        await env.click(BOB, card, texts.ActionId.APPROVE)

        told = await env.fake.wait_for(
            lambda: next((e for e in env.fake.ephemerals(user=BOB) if e.text.startswith("Approved")), None),
            timeout=30,
        )
        assert "PD did not answer" in told.text and "may have reached PD" in told.text, told.text
        reply = await env.fake.wait_for(_reply(env, card, f"⚠️ #{proposal.id} unknown"), timeout=30)
        assert "will not resend" in reply.text and "Check the cluster" in reply.text
        stored = await env.bot.operations.get(proposal.id)
        assert stored.state is ProposalState.UNKNOWN
        [intent] = await _proposal_rows(env, proposal.id)
        assert intent["caller_id"] == f"tikv-chatops/{proposal.id}"
        assert isinstance(intent["result"], dict) and intent["result"]["state"] == "unknown"
        assert len(env.pd_writes()) == 1
        # PD may have carried out the write it was slow to answer, but only the once.
        assert env.operators in ([], [("admin-transfer-leader", region)])

        _heal(env)
        await _still_serving(env, other[0], other[2][0])
        assert len(env.pd_writes()) == 2


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_pd_failing_while_the_operator_is_followed_is_told_and_audited(
    tmp_path: Path, fault: str
) -> None:
    """PD accepted the write, then fails while the bot follows the operator: the thread says PD cannot tell
    how it ended, the result is audited, nothing is resent, and the bot goes on serving."""
    async with fault_env(tmp_path, PD_TIMEOUT=PD_TIMEOUT, OPERATOR_FOLLOW_SECONDS="1") as env:
        (region, _leader, followers), other = healthy_regions(env.model)[:2]
        card = await env.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        proposal = await env.proposal(card)
        env.tap.on_answer = lambda: FAULTS[fault](env)
        await env.click(BOB, card, texts.ActionId.APPROVE)

        told = await env.fake.wait_for(
            lambda: next((e for e in env.fake.ephemerals(user=BOB) if e.text.startswith("Approved")), None),
            timeout=30,
        )
        assert told.text.startswith("Approved and sent. PD accepted the request"), told.text
        reply = await env.fake.wait_for(_reply(env, card, f"⚠️ #{proposal.id} unknown"), timeout=30)
        assert "PD does not report how the operator" in reply.text and "cannot be read" in reply.text
        assert "will not resend" in reply.text
        [intent] = await _proposal_rows(env, proposal.id)
        assert isinstance(intent["result"], dict) and intent["result"]["state"] == "unknown"
        assert "cannot be read" in json.dumps(intent["result"])
        assert env.pd_writes()[0].caller_id == f"tikv-chatops/{proposal.id}" and len(env.pd_writes()) == 1
        assert env.operators == [("admin-transfer-leader", region)]

        _heal(env)
        await _still_serving(env, other[0], other[2][0])


async def test_every_pd_endpoint_down_during_preflight_is_told_and_audited(tmp_path: Path) -> None:
    """With every PD member down the requester hears PD cannot be reached; with a majority back it works."""
    async with fault_env(tmp_path, members=True, PD_TIMEOUT=PD_TIMEOUT) as env:
        (region, _leader, followers), other = healthy_regions(env.model)[:2]
        names = [m.name for m in env.model.members]
        for name in names:
            env.sim.faults.member_down(name)
        await env.sim.settle()
        assert (await env.relay.command(ALICE, f"transfer-leader {region} {followers[0]}")).ok
        refusal = await env.fake.wait_for(
            lambda: next((e for e in env.fake.ephemerals(user=ALICE) if "Not proposed" in e.text), None),
            timeout=30,
        )
        assert "could not connect" in refusal.text, refusal.text
        [row] = await env.bot.store.query_audit(AuditQuery())
        assert row.result_json is not None and row.result_json["refused"] == "preflight"
        assert env.cards() == [] and env.operators == []

        for name in names[:2]:  # a majority again: PD elects a leader
            env.sim.faults.member_up(name)
        await env.sim.settle()
        await _still_serving(env, other[0], other[2][0])
        assert env.operators == [("admin-transfer-leader", other[0])]


async def test_the_pd_leader_endpoint_down_fails_over_for_preflight_and_the_write(tmp_path: Path) -> None:
    """The PD leader's member goes down before the proposal and the click: the bot asks the other members,
    the card is posted, the write reaches the new leader once, and the action succeeds."""
    async with fault_env(tmp_path, members=True, PD_TIMEOUT=PD_TIMEOUT) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        first = env.model.leader_name
        assert first is not None
        env.sim.faults.member_down(first)
        await env.sim.settle()
        card = await env.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        proposal = await env.proposal(card)
        await env.click(BOB, card, texts.ActionId.APPROVE)
        await env.fake.wait_for(_reply(env, card, f"✅ #{proposal.id} succeeded"), timeout=30)
        assert env.model.leader_name not in (None, first)
        assert env.operators == [("admin-transfer-leader", region)]
        assert env.leader_of(region) == followers[0]
        rows = await _proposal_rows(env, proposal.id)
        assert [r["executed"] for r in rows] == [True]


async def test_the_pd_leader_endpoint_down_while_following_fails_over(tmp_path: Path) -> None:
    """The PD leader's member goes down while the bot follows the operator: it reads the other members and
    reports the operator's end in the thread."""
    model_delay = 0.4  # the operator is still running when its leader goes away
    from faults_support import model_for_faults

    async with fault_env(
        tmp_path, members=True, model=model_for_faults(step_delay=model_delay), PD_TIMEOUT=PD_TIMEOUT
    ) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        card = await env.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        proposal = await env.proposal(card)
        await env.click(BOB, card, texts.ActionId.APPROVE)
        await env.fake.wait_for(_reply(env, card, f"⚙️ *Progress of #{proposal.id}"), timeout=30)
        first = env.model.leader_name
        assert first is not None and env.model.operators.get(region) is not None
        env.sim.faults.member_down(first)
        await env.sim.settle()

        await env.fake.wait_for(_reply(env, card, f"✅ #{proposal.id} succeeded"), timeout=30)
        assert env.operators == [("admin-transfer-leader", region)]
        assert await eventually(lambda: env.leader_of(region) == followers[0])
