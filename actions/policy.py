"""The approval policy: who may approve which tier, how many approvals, for how long, and where.

The composition root reads the policy file (YAML) and hands the mapping to ``Policy.from_mapping``;
every key is optional. Tiers not mentioned keep their defaults, and a tier that is mentioned keeps the
defaults of the keys it leaves out::

    channels: [C0123ABCD]
    approvers: {users: [U0ALICE], groups: [S0OPS]}
    tiers:
      structural: {approvals: 1, ttl: 30m}
      irreversible: {approvals: 2, ttl: 30m, agent_may_propose: false}

Refusals are returned as text written for the person who clicked, never raised here: the caller
decides which ``ActionError`` carries them.

The file is parsed strictly: a number where a number belongs (``approvals: true`` is an error), a
real boolean (``requester_may_approve: on`` is an error), a TTL of at most a year, no unknown keys.
``PolicyError`` names each key that is wrong.

With real Slack credentials the composition root makes the policy *fail closed*
(``closed_without_approvers``): tiers that only approvers may approve cannot be approved at all while
no approvers are configured, instead of being open to everyone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from actions.catalog import CATALOG
from actions.models import ActionType, Actor, Proposal, Tier

_DURATION = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")


def parse_duration(value: object) -> timedelta:
    """``"1h"``, ``"30m"``, ``"1h30m"``, ``"90s"``, ``"2d"`` or a number of seconds, as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text such as 30m or 1h")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return timedelta(seconds=int(text))
        match = _DURATION.match(text)
        if text and match:
            parts = {k: int(v) for k, v in match.groupdict().items() if v}
            return timedelta(
                days=parts.get("d", 0),
                hours=parts.get("h", 0),
                minutes=parts.get("m", 0),
                seconds=parts.get("s", 0),
            )
    raise ValueError(f"{value!r} is not a duration; write it as 30m, 1h or 1h30m")


MAX_TTL = timedelta(days=365)
POLICY_ENV = "TIKV_CHATOPS_POLICY"


class PolicyError(ValueError):
    """The policy file is wrong; the message names every key that is, one per line."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TierPolicy(_Frozen):
    """What one risk tier needs before it runs."""

    approvals: int = Field(default=1, ge=1, le=10, strict=True)
    ttl: timedelta = timedelta(hours=1)
    requester_may_approve: bool = Field(default=False, strict=True)
    agent_may_propose: bool = Field(default=True, strict=True)
    # only the configured approvers (users or groups) may approve
    approvers_only: bool = Field(default=False, strict=True)

    @field_validator("ttl", mode="before")
    @classmethod
    def _parse_ttl(cls, value: object) -> timedelta:
        ttl = parse_duration(value)
        if ttl <= timedelta(0):
            raise ValueError("the ttl must be longer than zero")
        if ttl > MAX_TTL:
            raise ValueError(f"the ttl must be at most a year (365d), got {_ttl(ttl)}")
        return ttl


DEFAULT_TIERS: Mapping[Tier, TierPolicy] = {
    Tier.REVERSIBLE: TierPolicy(approvals=1, ttl=timedelta(hours=1)),
    Tier.TEMPORARY: TierPolicy(approvals=1, ttl=timedelta(hours=1)),
    Tier.CONFIG: TierPolicy(approvals=1, ttl=timedelta(hours=1)),
    Tier.STRUCTURAL: TierPolicy(approvals=1, ttl=timedelta(minutes=30), approvers_only=True),
    Tier.IRREVERSIBLE: TierPolicy(
        approvals=2, ttl=timedelta(minutes=30), approvers_only=True, agent_may_propose=False
    ),
}


class Approvers(_Frozen):
    """People who may approve the tiers marked ``approvers_only``: Slack user ids and user-group ids."""

    users: frozenset[str] = Field(default=frozenset(), strict=False)
    groups: frozenset[str] = Field(default=frozenset(), strict=False)

    @field_validator("users", "groups", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        if value is None:
            return frozenset()
        if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
            raise ValueError("a list of Slack ids, e.g. [U0123ABCD]")
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise ValueError("every entry must be a Slack id written as text, e.g. U0123ABCD")
        return frozenset(item.strip() for item in value)

    @property
    def configured(self) -> bool:
        return bool(self.users or self.groups)

    def includes(self, actor: Actor) -> bool:
        return actor.user_id in self.users or bool(self.groups & actor.group_ids)

    def describe_ids(self) -> str:
        """``users U0ALICE, U0BOB or groups S0OPS`` (for ``policy check``)."""
        parts = []
        if self.users:
            parts.append("users " + ", ".join(sorted(self.users)))
        if self.groups:
            parts.append("groups " + ", ".join(sorted(self.groups)))
        return " or ".join(parts)

    def describe(self) -> str:
        """``the approvers list or groups S0OPS`` — who counts, in words."""
        parts = []
        if self.users:
            parts.append("the approvers list")
        if self.groups:
            parts.append("groups " + ", ".join(sorted(self.groups)))
        return " or ".join(parts)


class Policy(_Frozen):
    """The whole approval policy; ``Policy()`` is the default (anyone but the requester approves)."""

    channels: frozenset[str] = frozenset()
    approvers: Approvers = Approvers()
    tiers: dict[Tier, TierPolicy] = Field(default_factory=lambda: dict(DEFAULT_TIERS))
    # set-config max-replicas below 3 or above the Up stores: refused unless this is true
    allow_unsafe_max_replicas: bool = Field(default=False, strict=True)
    # Real Slack (set by the composition root): approvers-only tiers cannot be approved without approvers.
    closed_without_approvers: bool = Field(default=False, strict=True)

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: object) -> object:
        return Approvers._ids(value)

    @field_validator("tiers", mode="before")
    @classmethod
    def _merge_tier_defaults(cls, value: object) -> dict[Tier, Any]:
        if value is None:
            return dict(DEFAULT_TIERS)
        if not isinstance(value, Mapping):
            raise ValueError("tiers must map a tier name to its settings")
        tiers: dict[Tier, Any] = dict(DEFAULT_TIERS)
        for raw_name, settings in value.items():
            try:
                tier = Tier(str(raw_name))
            except ValueError:
                known = ", ".join(t.value for t in Tier)
                raise ValueError(f"unknown tier {raw_name!r}; the tiers are {known}") from None
            if isinstance(settings, TierPolicy):
                tiers[tier] = settings
            elif isinstance(settings, Mapping):
                # Validated by pydantic as TierPolicy, so an error names tiers.<tier>.<key>.
                tiers[tier] = DEFAULT_TIERS[tier].model_dump() | dict(settings)
            elif settings is not None:
                raise ValueError(f"tier {tier.value} must be a mapping of settings")
        return tiers

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Policy:
        """Build a policy from the parsed policy file; ``None`` or ``{}`` gives the defaults.

        Raises ``PolicyError`` naming every wrong key (``tiers.irreversible.approvals: …``).
        """
        try:
            return cls.model_validate(dict(data or {}))
        except ValidationError as exc:
            lines = []
            for error in exc.errors():
                key = ".".join(str(part) for part in error["loc"]) or "(the file)"
                message = str(error["msg"]).removeprefix("Value error, ")
                lines.append(f"{key}: {message} (got {error.get('input')!r})")
            raise PolicyError("\n".join(lines)) from None

    def fail_closed(self) -> Policy:
        """This policy as it applies with real Slack credentials (see the module docstring)."""
        return self.model_copy(update={"closed_without_approvers": True})

    def tier_policy(self, tier: Tier) -> TierPolicy:
        return self.tiers.get(tier, DEFAULT_TIERS[tier])

    def approval_gap(self, tier: Tier) -> str:
        """Why nobody may approve ``tier`` under this policy and how to fix it; ``""`` when someone may."""
        if not self.closed_without_approvers or self.approvers.configured:
            return ""
        if not self.tier_policy(tier).approvers_only:
            return ""
        return (
            f"Nobody can approve {tier.value} actions: the policy names no approvers. Add them to the "
            f"policy file ({POLICY_ENV}), e.g. approvers: {{users: [U0123ABCD], groups: [S0123ABCD]}}."
        )

    def gaps(self) -> list[str]:
        """One line per tier nobody may approve (for the startup log)."""
        return [gap for tier in Tier if (gap := self.approval_gap(tier))]

    def describe(self) -> list[str]:
        """The effective policy, one line per tier: who approves, how many, TTL (``policy check``)."""
        lines = []
        for tier in Tier:
            tp = self.tier_policy(tier)
            if self.approval_gap(tier):
                who = "nobody (no approvers are configured)"
            elif tp.approvers_only and self.approvers.configured:
                who = self.approvers.describe_ids()
            else:
                who = "anyone in the workspace"
            if not tp.requester_may_approve and not self.approval_gap(tier):
                who += ", not the requester"
            agent = "the agent may propose" if tp.agent_may_propose else "the agent may not propose"
            lines.append(
                f"{tier.value}: {tp.approvals} approval{'s' * (tp.approvals != 1)} by {who}; "
                f"ttl {_ttl(tp.ttl)}; {agent}"
            )
        channels = ", ".join(sorted(self.channels)) if self.channels else "any channel"
        lines.append(f"channels: {channels}")
        replicas = "allowed" if self.allow_unsafe_max_replicas else "refused"
        lines.append(f"max-replicas below 3 or above the Up stores: {replicas}")
        return lines

    def channel_allowed(self, channel: str | None) -> bool:
        """Whether /tikv and cards are allowed there; ``None`` (no channel, e.g. the agent) is allowed."""
        return not self.channels or channel is None or channel in self.channels

    def agent_may_propose(self, tier: Tier) -> bool:
        return self.tier_policy(tier).agent_may_propose

    def may_request(self, actor: Actor, action: ActionType) -> bool:
        """Whether ``actor`` may propose ``action`` (help lists only these).

        People may propose anything; approval is their gate. The agent is held to each tier's
        ``agent_may_propose``.
        """
        if not actor.is_agent:
            return True
        return self.agent_may_propose(CATALOG[action].tier)

    def may_approve(self, actor: Actor, proposal: Proposal) -> str | None:
        """``None`` when ``actor`` may approve ``proposal``, else the reason, written for that person."""
        tier_policy = self.tier_policy(proposal.tier)
        if actor.is_agent:
            return "The agent cannot approve actions; a person has to."
        gap = self.approval_gap(proposal.tier)
        if gap:
            return gap
        if actor.user_id == proposal.requester and not tier_policy.requester_may_approve:
            return "You requested this action, so someone else has to approve it."
        if tier_policy.approvers_only and self.approvers.configured and not self.approvers.includes(actor):
            return f"Only members of {self.approvers.describe()} may approve {proposal.tier.value} actions."
        if actor.user_id in proposal.approvers:
            needed = proposal.approvals_required - len(set(proposal.approvers))
            return (
                f"You already approved this; it needs {needed} more approval"
                f"{'' if needed == 1 else 's'} from someone else."
            )
        return None

    def may_reject(self, actor: Actor, proposal: Proposal) -> str | None:
        """The requester may withdraw their proposal; otherwise rejecting needs the right to approve."""
        if actor.is_agent:
            return "The agent cannot reject actions; a person has to."
        if actor.user_id == proposal.requester:
            return None
        tier_policy = self.tier_policy(proposal.tier)
        if tier_policy.approvers_only and self.approvers.configured and not self.approvers.includes(actor):
            return f"Only the requester or members of {self.approvers.describe()} may reject this action."
        return None

    def may_edit(self, actor: Actor, proposal: Proposal) -> str | None:
        """The requester and whoever may reject it may change its parameters (approvals then reset)."""
        refusal = self.may_reject(actor, proposal)
        return refusal.replace("reject", "edit") if refusal else None


def _ttl(ttl: timedelta) -> str:
    seconds = int(ttl.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
