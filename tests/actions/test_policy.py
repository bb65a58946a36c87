"""The approval policy: defaults, the policy file's shape, and who may approve what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actions.models import (
    ActionApproval,
    ActionRequest,
    ActionType,
    Actor,
    Decision,
    Proposal,
    ProposalState,
    Tier,
)
from actions.policy import Policy, PolicyError, parse_duration

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _proposal(
    tier: Tier, *, requester: str = "U0REQ", approvers: tuple[str, ...] = (), required: int = 1
) -> Proposal:
    return Proposal(
        id=7,
        revision=1,
        state=ProposalState.PENDING,
        request=ActionRequest(
            action=ActionType.TRANSFER_LEADER, params={"region_id": 12, "to_store_id": 3}, requester=requester
        ),
        original_params={"region_id": 12, "to_store_id": 3},
        tier=tier,
        approvals_required=required,
        fingerprint="f",
        approvals=tuple(
            ActionApproval(proposal_id=7, revision=1, approver=a, decision=Decision.APPROVE, decided_at=NOW)
            for a in approvers
        ),
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )


def test_defaults_follow_the_design() -> None:
    """With no policy file every tier has the design's approvals, TTL and agent rule."""
    policy = Policy.from_mapping(None)
    assert [(t, policy.tier_policy(t).approvals, policy.tier_policy(t).ttl) for t in Tier] == [
        (Tier.REVERSIBLE, 1, timedelta(hours=1)),
        (Tier.TEMPORARY, 1, timedelta(hours=1)),
        (Tier.CONFIG, 1, timedelta(hours=1)),
        (Tier.STRUCTURAL, 1, timedelta(minutes=30)),
        (Tier.IRREVERSIBLE, 2, timedelta(minutes=30)),
    ]
    assert [t for t in Tier if not policy.agent_may_propose(t)] == [Tier.IRREVERSIBLE]
    assert not any(policy.tier_policy(t).requester_may_approve for t in Tier)


def test_policy_file_overrides_only_the_keys_it_names() -> None:
    """A tier in the file keeps the defaults of the keys it leaves out."""
    policy = Policy.from_mapping(
        {
            "channels": ["C0OPS"],
            "approvers": {"users": ["U0ALICE"], "groups": ["S0OPS"]},
            "tiers": {
                "irreversible": {"ttl": "1h30m"},
                "reversible": {"requester_may_approve": True, "ttl": 600},
            },
        }
    )
    irreversible = policy.tier_policy(Tier.IRREVERSIBLE)
    assert (irreversible.approvals, irreversible.ttl, irreversible.agent_may_propose) == (
        2,
        timedelta(minutes=90),
        False,
    )
    assert policy.tier_policy(Tier.REVERSIBLE).requester_may_approve
    assert policy.tier_policy(Tier.REVERSIBLE).ttl == timedelta(minutes=10)
    assert policy.channel_allowed("C0OPS") and not policy.channel_allowed("C0RANDOM")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", timedelta(hours=1)),
        ("30m", timedelta(minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("2d", timedelta(days=2)),
    ],
)
def test_durations_are_read_like_people_write_them(text: str, expected: timedelta) -> None:
    """TTL text such as 1h and 30m becomes a timedelta."""
    assert parse_duration(text) == expected


def test_bad_policy_files_are_refused_with_the_reason() -> None:
    """Unknown tiers, unknown keys and unreadable TTLs fail loudly rather than weaken the policy."""
    with pytest.raises(PolicyError, match="unknown tier 'risky'"):
        Policy.from_mapping({"tiers": {"risky": {"approvals": 1}}})
    with pytest.raises(PolicyError, match="approval"):
        Policy.from_mapping({"tiers": {"reversible": {"approval": 2}}})
    with pytest.raises(PolicyError, match="not a duration"):
        Policy.from_mapping({"tiers": {"reversible": {"ttl": "soon"}}})
    with pytest.raises(PolicyError):
        Policy.from_mapping({"approvers": ["U0ALICE"]})


def test_the_requester_cannot_approve_their_own_action() -> None:
    """Self-approval is refused with a sentence the requester understands."""
    refusal = Policy().may_approve(Actor(user_id="U0REQ"), _proposal(Tier.REVERSIBLE))
    assert refusal == "You requested this action, so someone else has to approve it."


def test_requester_may_approve_when_the_tier_allows_it() -> None:
    """The tier setting requester_may_approve lifts the self-approval rule."""
    policy = Policy.from_mapping({"tiers": {"reversible": {"requester_may_approve": True}}})
    assert policy.may_approve(Actor(user_id="U0REQ"), _proposal(Tier.REVERSIBLE)) is None


def test_without_approvers_anyone_but_the_requester_may_approve() -> None:
    """With no approvers configured, even structural and irreversible actions accept any other person."""
    policy = Policy()
    assert policy.may_approve(Actor(user_id="U0ANY"), _proposal(Tier.STRUCTURAL)) is None
    assert policy.may_approve(Actor(user_id="U0ANY"), _proposal(Tier.IRREVERSIBLE, required=2)) is None


def test_structural_actions_need_a_configured_approver() -> None:
    """A non-approver is refused for structural actions and accepted for reversible ones."""
    policy = Policy.from_mapping({"approvers": {"users": ["U0ALICE"], "groups": ["S0OPS"]}})
    stranger = Actor(user_id="U0EVE")
    assert policy.may_approve(stranger, _proposal(Tier.STRUCTURAL)) == (
        "Only members of the approvers list or groups S0OPS may approve structural actions."
    )
    assert policy.may_approve(stranger, _proposal(Tier.REVERSIBLE)) is None
    assert policy.may_approve(Actor(user_id="U0ALICE"), _proposal(Tier.STRUCTURAL)) is None
    assert (
        policy.may_approve(Actor(user_id="U0BOB", group_ids=frozenset({"S0OPS"})), _proposal(Tier.STRUCTURAL))
        is None
    )


def test_one_person_cannot_count_twice() -> None:
    """An approver who already approved this revision is told someone else has to."""
    proposal = _proposal(Tier.IRREVERSIBLE, approvers=("U0ALICE",), required=2)
    refusal = Policy().may_approve(Actor(user_id="U0ALICE"), proposal)
    assert refusal == "You already approved this; it needs 1 more approval from someone else."
    assert Policy().may_approve(Actor(user_id="U0BOB"), proposal) is None


def test_the_agent_never_approves() -> None:
    """The agent may propose but never approve or reject."""
    agent = Actor(user_id="tikv-chatops/agent", is_agent=True)
    assert Policy().may_approve(agent, _proposal(Tier.REVERSIBLE)) is not None
    assert Policy().may_reject(agent, _proposal(Tier.REVERSIBLE)) is not None


def test_the_requester_may_withdraw_but_strangers_may_not_reject_structural_actions() -> None:
    """Rejecting needs the right to approve, except for the requester withdrawing their own proposal."""
    policy = Policy.from_mapping({"approvers": {"users": ["U0ALICE"]}})
    assert policy.may_reject(Actor(user_id="U0REQ"), _proposal(Tier.STRUCTURAL)) is None
    assert policy.may_reject(Actor(user_id="U0EVE"), _proposal(Tier.STRUCTURAL)) == (
        "Only the requester or members of the approvers list may reject this action."
    )
    assert policy.may_edit(Actor(user_id="U0EVE"), _proposal(Tier.STRUCTURAL)) == (
        "Only the requester or members of the approvers list may edit this action."
    )


def test_channels_absent_means_anywhere() -> None:
    """An empty channel list allows every channel."""
    assert Policy().channel_allowed("C0ANY")
