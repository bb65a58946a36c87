"""Ports: the small Protocols through which the action core reaches PD, storage and people.

``pd/`` implements ``Cluster``, ``store/`` implements ``ProposalStore``, ``bot/`` implements
``Notifier``; the composition root wires them. Snapshot types here are the domain's view of PD:
only what preflight, execution and verification need.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from actions.models import (
    ActionApproval,
    ActionRequest,
    ActionResult,
    AuditEntry,
    OperatorOutcome,
    PDRequest,
    PreflightReport,
    Proposal,
    ProposalEdit,
    ProposalState,
    Ticket,
    Tier,
)

# --- the cluster, as the domain sees it -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """One TiKV store: ``state_name`` is PD's (Up, Offline, Tombstone, Down, Disconnected)."""

    id: int
    address: str
    state_name: str
    labels: dict[str, str] = field(default_factory=dict)
    capacity_bytes: int = 0
    available_bytes: int = 0
    leader_count: int = 0
    region_count: int = 0
    region_size_mib: int = 0
    leader_weight: float = 1.0
    region_weight: float = 1.0
    pending_peer_count: int = 0
    last_heartbeat: datetime | None = None  # as PD last heard from the store

    @property
    def available_ratio(self) -> float:
        return self.available_bytes / self.capacity_bytes if self.capacity_bytes else 1.0


@dataclass(frozen=True, slots=True)
class PeerSnapshot:
    id: int
    store_id: int
    role: str = "Voter"  # Voter, Learner, IncomingVoter, DemotingVoter
    is_witness: bool = False  # a witness holds the Raft log but no data, and may never lead

    @property
    def is_voter(self) -> bool:
        return self.role in ("Voter", "IncomingVoter")


@dataclass(frozen=True, slots=True)
class RegionSnapshot:
    """One region: keys are PD's upper-case hex; ``""`` is unbounded."""

    id: int
    start_key: str
    end_key: str
    conf_ver: int
    version: int
    peers: tuple[PeerSnapshot, ...]
    leader_store_id: int | None
    down_peer_store_ids: tuple[int, ...] = ()
    pending_peer_store_ids: tuple[int, ...] = ()
    approximate_size_mib: int = 0
    approximate_keys: int = 0
    written_bytes: int = 0
    read_bytes: int = 0

    def peer_on(self, store_id: int) -> PeerSnapshot | None:
        return next((p for p in self.peers if p.store_id == store_id), None)


@dataclass(frozen=True, slots=True)
class OperatorSnapshot:
    """The operator PD reports for a region (running, or finished in the last 10 minutes)."""

    region_id: int
    outcome: OperatorOutcome
    desc: str = ""
    brief: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class ClusterHealth:
    leader: str | None
    members: int
    healthy_members: int

    @property
    def ok(self) -> bool:
        return self.leader is not None and self.healthy_members > self.members // 2


class Cluster(Protocol):
    """Live PD, read and written. Raises ``actions.errors.ClusterError`` subclasses only.

    ``caller_id`` is sent as PD's ``X-Caller-ID`` so PD's own audit log joins ours.
    """

    async def health(self) -> ClusterHealth: ...

    async def get_stores(self) -> list[StoreSnapshot]:
        """Up, Offline (and Down/Disconnected) stores; Tombstones are left out, as PD does."""
        ...

    async def get_store(self, store_id: int) -> StoreSnapshot | None: ...

    async def get_region(self, region_id: int) -> RegionSnapshot | None: ...

    async def get_operator(self, region_id: int) -> OperatorSnapshot | None: ...

    async def get_schedulers(self) -> list[str]: ...

    async def get_paused_schedulers(self) -> list[str]: ...

    async def get_evict_leader_store_ids(self) -> list[int]: ...

    async def get_config(self) -> dict[str, Any]:
        """Schedule config merged with replication (``max-replicas`` …), PD's types as PD returns them."""
        ...

    async def get_store_limits(self) -> dict[int, dict[str, float]]: ...

    async def get_reject_leader_labels(self) -> set[tuple[str, str]]:
        """Store labels (key, value) PD's ``label-property`` marks ``reject-leader``: no leader goes there."""
        ...

    async def get_hot_region_ids(self) -> set[int]:
        """Regions PD currently counts as hot for writes or reads (``/hotspot/regions/write|read``)."""
        ...

    async def get_degraded_region_ids(self) -> set[int]:
        """Regions with a down peer or fewer voters than max-replicas (PD's down-peer and miss-peer)."""
        ...

    async def send(self, request: PDRequest, *, caller_id: str) -> Any:
        """Send one write exactly once; never retried once it may have reached PD."""
        ...


# --- storage -----------------------------------------------------------------------------------


class ApprovalOutcome(enum.StrEnum):
    """What the store did with one approval, decided inside one transaction."""

    RECORDED = "recorded"  # counted; more approvals are still needed
    APPROVED = "approved"  # this approval completed the quorum: pending -> approved
    DUPLICATE = "duplicate"  # this person already decided this revision
    STALE = "stale"  # the proposal is not pending at that revision any more
    EXPIRED = "expired"  # it was past its TTL when the approval was to be recorded: now expired


@dataclass(frozen=True, slots=True)
class ProposalEvent:
    """One row of the append-only transition log."""

    proposal_id: int
    from_state: str | None
    to_state: str
    revision: int
    actor: str
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    limit: int = 20
    region_id: int | None = None
    store_id: int | None = None
    ticket_id: int | None = None
    proposal_id: int | None = None
    actor: str | None = None  # rows this user (or the system actor) wrote
    since: datetime | None = None  # rows created at or after this
    within: timedelta | None = None  # rows of the last ``within``: the service turns it into ``since``


class ProposalStore(Protocol):
    """Durable proposals, approvals, the action log and tickets. Every transition is one guarded
    statement (``… WHERE id=? AND state=? AND revision=?``) committed with its ``events`` row.

    Each call is one transaction: when it raises, nothing of it was written. A database that cannot be
    used right now (locked, full, failing) raises ``actions.errors.StorageUnavailable``.
    """

    async def create_proposal(
        self,
        *,
        request: ActionRequest,
        tier: Tier,
        approvals_required: int,
        preflight: PreflightReport,
        expires_at: datetime,
        now: datetime,
        channel: str | None = None,
        undo_of: int | None = None,
        revert_at: datetime | None = None,
    ) -> Proposal: ...

    async def get_proposal(self, proposal_id: int) -> Proposal | None: ...

    async def list_proposals(
        self, *, states: Sequence[ProposalState] | None = None, ticket_id: int | None = None, limit: int = 50
    ) -> list[Proposal]: ...

    async def set_card(self, proposal_id: int, *, channel: str, message_ts: str) -> None: ...

    async def add_approval(self, approval: ActionApproval, *, required: int) -> ApprovalOutcome:
        """Insert the approval and, if it completes ``required`` distinct approvers, move the proposal
        pending -> approved, all in one transaction; guarded on ``expires_at`` > ``decided_at`` (a
        proposal past it is moved to expired instead, and EXPIRED is returned)."""
        ...

    async def reject(self, rejection: ActionApproval) -> bool:
        """Record a rejection and move pending -> rejected (guarded on state and revision)."""
        ...

    async def transition(
        self,
        proposal_id: int,
        *,
        expected: ProposalState,
        new: ProposalState,
        actor: str,
        now: datetime,
        revision: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Guarded move ``expected -> new``; False when another writer got there first."""
        ...

    async def revise(
        self,
        proposal_id: int,
        *,
        expected_revision: int,
        request: ActionRequest,
        preflight: PreflightReport,
        expires_at: datetime,
        actor: str,
        now: datetime,
        tier: Tier | None = None,
        approvals_required: int | None = None,
        edit: ProposalEdit | None = None,
    ) -> Proposal | None:
        """Edit: a new revision (approvals of older revisions no longer count); None if stale.

        ``tier`` and ``approvals_required``, when given, replace the stored ones. ``edit`` (who made the
        revision and what it changed) is kept with the proposal and in its events row, written by the
        same guarded statement."""
        ...

    async def claim_for_execution(self, proposal_id: int, *, intent: AuditEntry, now: datetime) -> int | None:
        """approved -> executing plus the "about to call PD" audit row, one transaction.
        Returns the action_log id, or None when another executor claimed it, or when it is past its
        ``expires_at`` (then it is moved to expired in the same transaction)."""
        ...

    async def finish_execution(
        self, proposal_id: int, *, log_id: int, result: ActionResult, now: datetime
    ) -> bool:
        """executing -> result.state plus the result on the audit row, one transaction."""
        ...

    async def update_result(self, proposal_id: int, *, log_id: int, result: ActionResult) -> None:
        """Refine a finished proposal's result (operator progress, verification) without a transition."""
        ...

    async def expire_due(self, *, now: datetime) -> list[Proposal]:
        """pending -> expired for every proposal past its TTL; returns the ones it moved."""
        ...

    async def events(self, proposal_id: int) -> list[ProposalEvent]: ...

    async def log_entry(self, entry: AuditEntry) -> int:
        """Append an action_log row (dry-runs, refusals, reverts); returns its id."""
        ...

    async def query_audit(self, query: AuditQuery) -> list[AuditEntry]: ...

    async def note_delivery(self, keys: Sequence[str], *, now: datetime, window: timedelta) -> bool:
        """Remember a delivery (a slash command) under ``keys``; False when one of them was seen within
        ``window`` before ``now`` — a replay. Older entries are pruned."""
        ...

    async def open_ticket(
        self, *, key: str, title: str, detail: dict[str, Any], now: datetime
    ) -> tuple[Ticket, bool]:
        """The open ticket for ``key``, creating it if none is open; the bool says it was created."""
        ...

    async def list_open_tickets(self) -> list[Ticket]: ...

    async def close_ticket(self, ticket_id: int, *, now: datetime) -> None: ...


# --- leases: the work one replica at a time does ------------------------------------------------


@dataclass(frozen=True)
class Lease:
    """Who holds the named lease until when (``actions.leases``, docs/replicas.md)."""

    name: str  # "agent", "sweeper", "catch-up" …
    owner: str  # a replica id
    token: int  # fencing token: grows by one each time the lease changes owner
    expires_at: datetime


class LeaseStore(Protocol):
    """Named leases shared by every replica on one database; each call is one guarded statement."""

    async def acquire_lease(self, name: str, *, owner: str, ttl: timedelta, now: datetime) -> Lease | None:
        """Take or renew `name` for `owner`; None while another owner holds an unexpired lease."""
        ...

    async def release_lease(self, name: str, *, owner: str) -> None:
        """Give `name` up at once if `owner` holds it (anyone may take it next); otherwise nothing."""
        ...


# --- people ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardRef:
    """Where a proposal's card was posted."""

    channel: str
    message_ts: str


class Notifier(Protocol):
    """Tells people what happened. The Slack edge implements it; failures here never undo work."""

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        """Post a new proposal card; None when it could not be posted (posted later when the failure
        proves Slack did not take it; a post that may have arrived is never repeated)."""
        ...

    async def update(self, proposal: Proposal) -> None:
        """Rewrite the proposal's card in place to its current state."""
        ...

    async def progress(self, proposal: Proposal, text: str) -> None:
        """Show operator progress in the card's thread (one message, edited in place)."""
        ...

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        """Post the result and verification in the card's thread."""
        ...
