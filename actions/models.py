"""Domain models of the action core: requests, proposals, approvals, results.

All models are frozen pydantic v2 models so they can cross task boundaries and be stored as JSON
without anyone mutating a shared copy.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ParamValue = int | float | str | list[str]
"""A parameter value after catalog validation: ids are ints, keys are hex strings."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionType(enum.StrEnum):
    """Every action the catalog knows. Values are the words people type after ``/tikv``."""

    TRANSFER_LEADER = "transfer-leader"
    TRANSFER_PEER = "transfer-peer"
    ADD_PEER = "add-peer"
    REMOVE_PEER = "remove-peer"
    SPLIT_REGION = "split-region"
    MERGE_REGION = "merge-region"
    SCATTER_REGION = "scatter-region"
    CANCEL_OPERATOR = "cancel-operator"
    EVICT_LEADER = "evict-leader-scheduler"  # typed as `evict-leader` too (catalog alias)
    REMOVE_EVICT_LEADER = "remove-evict-leader"
    PAUSE_SCHEDULER = "pause-scheduler"
    RESUME_SCHEDULER = "resume-scheduler"
    SET_CONFIG = "set-config"
    SET_STORE_LIMIT = "set-store-limit"
    OFFLINE_STORE = "offline-store"
    CANCEL_OFFLINE = "cancel-offline"


class Tier(enum.StrEnum):
    """Risk tiers; the policy maps each to approvals needed, TTL and who may propose it."""

    REVERSIBLE = "reversible"
    TEMPORARY = "temporary"
    CONFIG = "config"
    STRUCTURAL = "structural"
    IRREVERSIBLE = "irreversible"


class Source(enum.StrEnum):
    """Who asked for an action."""

    HUMAN = "human"
    AGENT = "agent"


class Membership(_Frozen):
    """Where a person comes from, as the chat platform reports it; ``actions.membership`` judges it.

    ``home_*`` is the workspace (and Enterprise Grid organisation) the bot is installed in;
    ``user_*`` the person's own, from their profile; ``request_*`` the workspace the request came
    through. An empty id is one the platform did not report.
    """

    home_team_id: str
    home_enterprise_id: str = ""
    user_team_id: str = ""
    user_enterprise_id: str = ""
    is_stranger: bool = False  # a person from another organisation (Slack Connect)
    request_team_id: str = ""
    request_enterprise_id: str = ""


class Actor(_Frozen):
    """A person (or the agent) acting through the bot, with the identity facts policy needs.

    ``membership`` is None for actors that do not come through a chat workspace (the agent, tests,
    the command line).
    """

    user_id: str
    name: str = ""
    group_ids: frozenset[str] = frozenset()
    is_agent: bool = False
    membership: Membership | None = None


class Evidence(_Frozen):
    """One fact behind a proposal: what was measured, its value, and where it was read."""

    label: str
    value: str
    source: str = ""  # the PD endpoint read, e.g. "GET /pd/api/v1/stores"


class ActionRequest(_Frozen):
    """A validated request to run one catalog action on one cluster."""

    action: ActionType
    params: dict[str, ParamValue]
    cluster: str = "default"
    requester: str
    source: Source = Source.HUMAN
    rationale: str = ""
    evidence: tuple[Evidence, ...] = ()
    ticket_id: int | None = None
    confidence: float | None = None
    revert_after_seconds: int | None = None  # temporary changes: revert automatically after this
    advised_by: str | None = None  # the agent's advisor, e.g. "claude-sonnet-5-5, prompt advisor/2"


class PDRequest(_Frozen):
    """The exact HTTP request an action sends to PD (shown by dry-run, sent by the executor)."""

    name: str  # PD client's request name, e.g. "TransferLeader"
    method: Literal["GET", "POST", "DELETE"]
    path: str  # e.g. "/pd/api/v1/operators"
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None

    def describe(self) -> str:
        """One line such as ``POST /pd/api/v1/operators {"name": …}``."""
        import json

        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        target = f"{self.path}?{query}" if query else self.path
        body = "" if self.body is None else " " + json.dumps(self.body, separators=(", ", ": "))
        return f"{self.method} {target}{body}"


class CheckStatus(enum.StrEnum):
    """Outcome of one preflight check."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


class CheckResult(_Frozen):
    """One preflight check with the data it used, so a person can judge it."""

    name: str
    status: CheckStatus
    message: str
    data: dict[str, Any] = Field(default_factory=dict)


TIER_ORDER: tuple[Tier, ...] = tuple(Tier)
"""Tiers from least to most dangerous."""


def higher_tier(a: Tier, b: Tier) -> Tier:
    """The more dangerous of two tiers."""
    return a if TIER_ORDER.index(a) >= TIER_ORDER.index(b) else b


class RiskAssessment(_Frozen):
    """The tier a concrete request needs on this cluster, and the one line saying why (see actions.risk)."""

    base: Tier  # the catalog's tier for the action
    tier: Tier  # the effective tier: base raised by the parameters and the cluster's state
    reason: str = ""  # "irreversible: lowers max-replicas 3 → 1, two of three copies … are dropped"
    approval_gap: str = ""  # set when the policy leaves nobody who may approve this tier, and how to fix it


class PreflightReport(_Frozen):
    """All checks of one request, plus the fingerprint of the cluster facts they relied on."""

    checks: tuple[CheckResult, ...]
    fingerprint: str
    facts: dict[str, Any] = Field(default_factory=dict)  # what the fingerprint hashes, for "what changed"
    risk: RiskAssessment | None = None  # None in reports stored before risk was assessed

    @property
    def blocked(self) -> bool:
        return any(c.status is CheckStatus.FAIL for c in self.checks)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status is CheckStatus.FAIL)


class DryRunReport(_Frozen):
    """What a dry-run shows: checks, the exact request, the pd-ctl line, tier and approvals needed."""

    request: ActionRequest
    preflight: PreflightReport
    pd_request: PDRequest
    pd_ctl: str
    tier: Tier
    approvals_required: int
    audit_id: int | None = None


class ProposalState(enum.StrEnum):
    """States of a proposal; transitions are guarded in the store (docs/architecture.md)."""

    PENDING = "pending"  # waiting for approvals at its current revision
    APPROVED = "approved"  # enough approvals; the executor has not claimed it yet
    EXECUTING = "executing"  # the intent is committed; the PD call may be in flight
    SUCCEEDED = "succeeded"  # PD accepted it and (for operators) reported SUCCESS
    FAILED = "failed"  # PD refused it, or the operator ended TIMEOUT/CANCEL/REPLACE
    UNKNOWN = "unknown"  # the outcome could not be established (crash, PD unreachable mid-call)
    REJECTED = "rejected"  # a person said no
    EXPIRED = "expired"  # nobody decided before its TTL
    SUPERSEDED = "superseded"  # the cluster moved; the preflight on approve no longer matched

    @property
    def is_open(self) -> bool:
        return self in IN_FLIGHT


IN_FLIGHT: tuple[ProposalState, ...] = (
    ProposalState.PENDING,
    ProposalState.APPROVED,
    ProposalState.EXECUTING,
)
"""A proposal on its way: waiting for a decision, approved, or executing."""

FINISHED: tuple[ProposalState, ...] = (ProposalState.SUCCEEDED, ProposalState.FAILED, ProposalState.UNKNOWN)
"""The states an execution can end in."""


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ActionApproval(_Frozen):
    """One person's decision on one revision of a proposal."""

    proposal_id: int
    revision: int
    approver: str
    decision: Decision
    reason: str = ""
    decided_at: datetime


class ParamChange(_Frozen):
    """One parameter an edit changed, as the person typed it and as it is now."""

    name: str
    before: ParamValue | None
    after: ParamValue | None


class ProposalEdit(_Frozen):
    """How one revision after the first came to be: who made it and what it changed.

    ``system`` marks revisions the bot made itself (a re-check found the cluster changed).
    """

    revision: int
    editor: str
    system: bool = False
    changes: tuple[ParamChange, ...] = ()
    at: datetime


class Proposal(_Frozen):
    """A request waiting for (or past) approval, as stored."""

    id: int
    revision: int
    state: ProposalState
    request: ActionRequest  # current parameters (after edits)
    original_params: dict[str, ParamValue]  # as first proposed, kept apart from edits
    tier: Tier
    approvals_required: int
    fingerprint: str
    preflight: PreflightReport | None = None
    approvals: tuple[ActionApproval, ...] = ()  # decisions on the current revision
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    channel: str | None = None  # where its card lives (a notifier concept, e.g. a Slack channel)
    message_ts: str | None = None
    result: ActionResult | None = None
    undo_of: int | None = None
    revert_at: datetime | None = None  # temporary changes: when the reconciler reverts it
    edits: tuple[ProposalEdit, ...] = ()  # every revision after the first, oldest first

    @property
    def editors(self) -> frozenset[str]:
        """People who edited any revision (the bot's own re-check revisions are not people)."""
        return frozenset(e.editor for e in self.edits if not e.system)

    @property
    def last_edit(self) -> ProposalEdit | None:
        """The newest revision a person made, if any."""
        return next((e for e in reversed(self.edits) if not e.system), None)

    @property
    def requester(self) -> str:
        return self.request.requester

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(a.approver for a in self.approvals if a.decision is Decision.APPROVE)


class OperatorOutcome(enum.StrEnum):
    """How PD reported the operator an action created."""

    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    TIMEOUT = "TIMEOUT"
    CANCEL = "CANCEL"
    REPLACE = "REPLACE"
    NONE = "NONE"  # the action creates no operator (schedulers, config, stores)


class ActionResult(_Frozen):
    """What executing one proposal (or a direct action) did."""

    state: ProposalState  # SUCCEEDED, FAILED or UNKNOWN
    message: str  # for people: what happened, in words
    pd_request: PDRequest
    pd_response: Any = None
    pd_status: int | None = None
    caller_id: str = ""
    operator: OperatorOutcome = OperatorOutcome.NONE
    verification: CheckResult | None = None
    started_at: datetime
    finished_at: datetime | None = None


class AuditEntry(_Frozen):
    """One row of the action log: an intent, a dry-run, or a result."""

    id: int | None = None
    proposal_id: int | None = None
    ticket_id: int | None = None
    actor: str
    action: str
    dry_run: bool = False
    request_json: dict[str, Any]
    result_json: dict[str, Any] | None = None
    approval_json: list[dict[str, Any]] | None = None
    caller_id: str = ""
    created_at: datetime
    executed_at: datetime | None = None
    event: str = ""  # what happened (``created``, ``edited``, ``approval_refused``…); "" = from the row
    summary: str = ""  # one line for people; "" = written by the store from the row
    prev_hash: str | None = None  # the chain (store/chain.py): set by the store, never by a caller
    row_hash: str | None = None


class Ticket(_Frozen):
    """A group of findings (from the agent) or requests that belong together."""

    id: int
    key: str  # dedup key, e.g. "store-down:4"
    title: str
    state: Literal["open", "closed"] = "open"
    created_at: datetime
    detail: dict[str, Any] = Field(default_factory=dict)


Proposal.model_rebuild()
