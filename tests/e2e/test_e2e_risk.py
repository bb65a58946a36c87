"""Issue 11's "Must show", part A: a tier from what the request does, approvers nobody can side-step,
a policy that fails closed, and dry-runs that never promise what PD refuses.

Every scenario is the whole bot over signed Slack requests against the PD simulator.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from conftest import ALICE, BOB, CAROL, CHANNEL, E2E, eventually, open_e2e

from actions.models import ProposalState, Tier
from bot import texts
from bot.playground.model import Message
from pd.simulator.topology import VOTER

POLICY = "approvers: {users: [U0CAROL]}\n"
UNSAFE_REPLICAS = "allow_unsafe_max_replicas: true\n"


def _text(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[E2E]:
    """The bot with a policy that names Carol as the only approver."""
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY, encoding="utf-8")
    async with open_e2e(tmp_path, TIKV_CHATOPS_POLICY=str(policy)) as env:
        yield env


@pytest.fixture
async def unsafe_allowed(tmp_path: Path) -> AsyncIterator[E2E]:
    """Carol approves, and the policy explicitly allows max-replicas below 3."""
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY + UNSAFE_REPLICAS, encoding="utf-8")
    async with open_e2e(tmp_path, TIKV_CHATOPS_POLICY=str(policy)) as env:
        yield env


async def _refused(e2e: E2E, user: str, words: str) -> str:
    found: list[str] = await eventually(lambda: [t for t in e2e.ephemeral_texts(user) if words in t], 10)
    return found[-1]


async def _dry_run(e2e: E2E, text: str) -> str:
    """``/tikv dry-run text`` by Alice; the dry-run report posted in the thread, as JSON text."""
    before = {m.ts for m in e2e.fake.messages(CHANNEL)}
    delivery = await e2e.relay.command(ALICE, f"dry-run {text}")
    assert delivery.ok
    parent: Message = await e2e.fake.wait_for(
        lambda: next(
            (m for m in e2e.fake.messages(CHANNEL) if m.ts not in before and "dry-run" in m.text), None
        )
    )
    replies = await e2e.fake.wait_for(lambda: e2e.fake.thread(CHANNEL, parent.ts)[1:], timeout=30)
    return _text(replies[0].blocks)


# --- 1. a non-approver approving max-replicas 1 or halt-scheduling true -------------------------


async def test_a_non_approver_cannot_approve_max_replicas_1(unsafe_allowed: E2E) -> None:
    """Irreversible by what it does: Bob (no approver) is refused, PD keeps 3 copies; the card says why."""
    e2e = unsafe_allowed
    card = await e2e.propose(ALICE, "set-config max-replicas 1")
    proposal = await e2e.proposal(card)
    assert proposal.tier is Tier.IRREVERSIBLE and proposal.approvals_required == 2
    shown = _text(card.blocks)
    assert "lowers max-replicas 3 → 1, two of three copies of every region are dropped" in shown
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    refusal = await _refused(e2e, BOB, "Only members of")
    assert "irreversible" in refusal
    await e2e.quiesce()
    assert e2e.model.config.max_replicas == 3
    assert e2e.tap.writes() == []
    stored = await e2e.bot.operations.get(proposal.id)
    assert stored.state is ProposalState.PENDING and stored.approvers == ()


async def test_a_non_approver_cannot_approve_halt_scheduling_but_an_approver_can(guarded: E2E) -> None:
    """halt-scheduling true is structural: Bob is refused; Carol, the approver, runs it."""
    e2e = guarded
    card = await e2e.propose(ALICE, "set-config halt-scheduling true")
    proposal = await e2e.proposal(card)
    assert proposal.tier is Tier.STRUCTURAL
    assert "all scheduling stops" in _text(card.blocks)
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    await _refused(e2e, BOB, "Only members of")
    await e2e.quiesce()
    assert e2e.tap.writes() == [] and not e2e.model.config.schedule.get("halt-scheduling")
    await e2e.click(CAROL, card, texts.ActionId.APPROVE)
    await eventually(lambda: e2e.model.config.schedule.get("halt-scheduling") is True, 10)
    assert [(w.method, w.path) for w in e2e.tap.writes()] == [("POST", "/pd/api/v1/config")]


async def test_a_cluster_that_degrades_after_the_proposal_needs_the_higher_tier(guarded: E2E) -> None:
    """evict-leader is reversible on a healthy cluster;
    once a store is down the approve re-check raises it."""
    e2e = guarded
    card = await e2e.propose(ALICE, "evict-leader 2")
    proposal = await e2e.proposal(card)
    assert proposal.tier is Tier.REVERSIBLE
    e2e.model.fail_store(4)
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    await _refused(e2e, BOB, "changed")
    raised = await eventually(
        lambda: _raised(e2e, proposal.id),
        10,
    )
    assert raised.tier is Tier.STRUCTURAL and raised.revision == 2
    assert raised.preflight is not None and raised.preflight.risk is not None
    assert "store 4 is down" in raised.preflight.risk.reason
    await eventually(lambda: "store 4 is down" in _text(e2e.card(card).blocks), 10)


async def _raised(e2e: E2E, proposal_id: int) -> object:
    stored = await e2e.bot.operations.get(proposal_id)
    return stored if stored.tier is not Tier.TEMPORARY else None


# --- 2. the dry-run of max-replicas 1 -----------------------------------------------------------


async def test_dry_run_of_max_replicas_1_is_refused_with_the_arithmetic(e2e: E2E) -> None:
    """Without the policy's say-so it would be refused; it never says "accepted" or "config"."""
    shown = await _dry_run(e2e, "set-config max-replicas 1")
    assert "would be accepted" not in shown and texts.DRY_RUN_WOULD_FAIL in shown
    assert "max-replicas 1 is below 3" in shown
    assert "irreversible" in shown and "two of three copies of every region are dropped" in shown
    assert e2e.tap.writes() == []


async def test_dry_run_of_max_replicas_1_allowed_by_policy_is_irreversible(unsafe_allowed: E2E) -> None:
    """With the policy's allowance: tier irreversible, 2 approvals, the exact arithmetic."""
    shown = await _dry_run(unsafe_allowed, "set-config max-replicas 1")
    assert "irreversible" in shown and '"text": "*Approvals it would need*\\n2"' in shown
    assert "two of three copies of every region are dropped" in shown
    assert "removes a replica from every region" not in shown


# --- 6. no approvers configured, with real Slack credentials ------------------------------------


async def test_no_approvers_with_real_slack_fails_closed(e2e: E2E) -> None:
    """The e2e bot has real credentials and no policy: structural proposals cannot be approved, and
    the card says so and how to configure it."""
    card = await e2e.propose(ALICE, "set-config halt-scheduling true")
    shown = _text(card.blocks)
    assert "Nobody can approve structural actions" in shown and "TIKV_CHATOPS_POLICY" in shown
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    refusal = await _refused(e2e, BOB, "Nobody can approve")
    assert "approvers:" in refusal
    await e2e.quiesce()
    assert e2e.tap.writes() == [] and not e2e.model.config.schedule.get("halt-scheduling")


async def test_the_startup_log_says_the_policy_fails_closed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot"):
        async with open_e2e(tmp_path):
            pass
    warned = [r.getMessage() for r in caplog.records if "policy" in r.getMessage()]
    assert any("Nobody can approve irreversible actions" in w for w in warned), warned


# --- 7. dry-runs said "accepted" for requests PD refuses ----------------------------------------


async def _pd_refuses(e2e: E2E, body: dict[str, object]) -> str:
    """POST the operator straight to the simulator: PD's own answer (status 500 and its text)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{e2e.sim.url}/pd/api/v1/operators", json=body) as answer,
    ):
        assert answer.status == 500
        text: str = await answer.json()
        return text


async def test_dry_run_refuses_a_leader_to_a_witness_as_pd_does(e2e: E2E) -> None:
    region, _leader, followers = e2e.region_with_followers()
    e2e.model.set_witness(region, followers[0])
    shown = await _dry_run(e2e, f"transfer-leader {region} {followers[0]}")
    assert texts.DRY_RUN_WOULD_FAIL in shown and "would be accepted" not in shown and "witness" in shown
    body = {"name": "transfer-leader", "region_id": region, "to_store_id": followers[0]}
    assert await _pd_refuses(e2e, body) == "cannot create operator: target leader is not allowed"


async def test_dry_run_refuses_a_leader_to_a_reject_leader_store_as_pd_does(e2e: E2E) -> None:
    region, _leader, followers = e2e.region_with_followers()
    zone = dict(e2e.model.store(followers[0]).labels)["zone"]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{e2e.sim.url}/pd/api/v1/config/label-property",
            json={"action": "set", "type": "reject-leader", "label-key": "zone", "label-value": zone},
        ) as answer,
    ):
        assert answer.status == 200
    shown = await _dry_run(e2e, f"transfer-leader {region} {followers[0]}")
    assert texts.DRY_RUN_WOULD_FAIL in shown and "would be accepted" not in shown
    assert f"zone={zone}" in shown and "reject-leader" in shown
    body = {"name": "transfer-leader", "region_id": region, "to_store_id": followers[0]}
    assert await _pd_refuses(e2e, body) == "cannot create operator: target leader is not allowed"


async def test_dry_run_refuses_a_merge_with_an_abnormal_peer_layout_as_pd_does(e2e: E2E) -> None:
    source, target = _healthy_neighbours(e2e)
    follower = next(
        p.store_id for p in e2e.model.region(target).peers if p is not e2e.model.region(target).leader
    )
    e2e.model.set_witness(target, follower)
    shown = await _dry_run(e2e, f"merge-region {source} {target}")
    assert texts.DRY_RUN_WOULD_FAIL in shown and "would be accepted" not in shown
    assert "not fully replicated" in shown
    body = {"name": "merge-region", "source_region_id": source, "target_region_id": target}
    assert (
        await _pd_refuses(e2e, body) == f"[PD:region:ErrRegionAbnormalPeer]region {target} has abnormal peer"
    )


def _healthy_neighbours(e2e: E2E) -> tuple[int, int]:
    ordered = e2e.model.regions_in_order()
    for left, right in itertools.pairwise(ordered):
        if all(
            r.leader is not None
            and not r.down_peers
            and not r.pending_peers
            and sum(1 for p in r.peers if p.role == VOTER) == 3
            and len(r.peers) == 3
            for r in (left, right)
        ):
            return left.id, right.id
    raise AssertionError("no two healthy neighbouring regions")
