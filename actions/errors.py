"""Errors of the action core.

    ActionError
     ├── InvalidRequest          the request does not fit the catalog (unknown action, bad parameter)
     ├── PolicyRefusal           the actor may not do this (self-approval, not an approver, wrong channel)
     ├── StaleDecision           the proposal moved on (decided, edited, expired) before this decision
     ├── ProposalNotFound        no proposal with that id
     ├── PreflightFailed         a check against live PD failed; nothing was sent
     ├── StorageUnavailable      the bot's own database could not be used (locked, full, failing);
     │                           nothing of the operation was recorded (raised by ProposalStore adapters)
     ├── PartlyRecorded          the database failed after the operation's first write committed:
     │                           ``recorded`` says what stands (raised by ``Operations``)
     └── ClusterError            PD could not be asked or refused (raised by Cluster adapters)
          ├── ClusterUnavailable PD unreachable, no leader, timed out; ``maybe_sent`` for writes
          └── ClusterRejected    PD answered and refused (status, PD's own message, and the typed
                                 ``Refusal`` the PD adapter read from it when PD's text is a known one)

Every message is written for the person who sent the request: it says what is wrong and, where it
can, what to do instead. ``str(exc)`` is safe to show in Slack.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ActionError(Exception):
    """Base of every error the action core raises on purpose."""


class InvalidRequest(ActionError):
    """Raised when a request names an unknown action or a parameter fails the catalog's validation."""

    def __init__(self, message: str, *, field: str | None = None, usage: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.usage = usage


class PolicyRefusal(ActionError):
    """Raised when the policy forbids this actor this step (self-approval, non-approver, channel)."""


class StaleDecision(ActionError):
    """Raised when a decision arrives for a proposal that is no longer pending at that revision."""


class InverseAlreadyOpen(StaleDecision):
    """The store already holds an open undo (or revert) of ``undo_of``: one at a time, by a unique index."""

    def __init__(self, undo_of: int) -> None:
        self.undo_of = undo_of
        super().__init__(f"#{undo_of} already has an open undo; decide on that one first.")


class ProposalNotFound(ActionError):
    """Raised when a proposal id does not exist."""


class ClusterError(ActionError):
    """Raised by a Cluster adapter when PD could not answer or refused."""

    def __init__(self, message: str, *, status: int | None = None, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.maybe_sent = maybe_sent


class ClusterUnavailable(ClusterError):
    """Raised when PD is unreachable, has no leader, or timed out; ``maybe_sent`` marks a write in doubt."""


class RefusalReason(enum.StrEnum):
    """Why PD refused a request, for the refusals whose text PD keeps stable (docs/pd.md, "Refusals PD
    makes…"). The PD adapter decides it once from PD's text; ``actions.explain`` turns it into a sentence.
    """

    NO_VOTER_ON_STORE = "no-voter-on-store"  # args: store
    NO_PEER_ON_STORE = "no-peer-on-store"  # args: store
    PEER_ALREADY_ON_STORE = "peer-already-on-store"  # args: store
    ABNORMAL_PEER = "abnormal-peer"  # args: region
    REGION_NOT_FOUND = "region-not-found"  # args: region
    HOT_REGION = "hot-region"  # args: region
    STORE_NOT_FOUND = "store-not-found"  # args: store
    STORE_REMOVED = "store-removed"  # args: store
    STORE_UNHEALTHY = "store-unhealthy"  # args: store
    TOO_FEW_UP_STORES = "too-few-up-stores"  # args: store, Up stores left, Up stores needed
    OPERATOR_EXISTS = "operator-exists"
    NOTHING_TO_DO = "nothing-to-do"  # PD built no operator step: the change is already in place
    LEADER_NOT_ALLOWED = "leader-not-allowed"
    NOT_ADJACENT = "not-adjacent"
    JOINT_STATE = "joint-state"
    SPLIT_KEY_NOT_HEX = "split-key-not-hex"  # args: key
    OPERATOR_NOT_FOUND = "operator-not-found"
    SCHEDULER_EXISTS = "scheduler-exists"
    SCHEDULER_NOT_FOUND = "scheduler-not-found"
    CONFIG_ITEM_NOT_FOUND = "config-item-not-found"  # args: item
    INVALID_RATE = "invalid-rate"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal PD's text names: the reason, and the ids, keys and counts PD put in it, in its order."""

    reason: RefusalReason
    args: tuple[str, ...] = ()


class ClusterRejected(ClusterError):
    """Raised when PD answered and refused the request (a 4xx, or a 500 carrying a semantic refusal).

    ``refusal`` is the typed reason when PD's text is one the adapter knows, else ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        not_found: bool = False,
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(message, status=status, maybe_sent=False)
        self.not_found = not_found
        self.refusal = refusal


class StorageUnavailable(ActionError):
    """Raised by a ProposalStore adapter when its database cannot be used right now (locked past its busy
    timeout, disk full, I/O error): the operation was rolled back whole, so trying again later is safe.
    ``Operations`` lets it reach people only when an operation's first write failed; a later failure
    becomes ``PartlyRecorded`` or is absorbed (PD's answer is then told and recorded later).

    The message names the database's trouble for the log; people are told in a fixed sentence.
    """


class Recorded(enum.StrEnum):
    """What of an operation the database took before it failed part-way."""

    APPROVAL = "approval"  # the approval counts; more are needed, the card may not show it yet
    APPROVAL_RUN_WAITS = "approval-run-waits"  # it completed the quorum; nothing was sent to PD yet
    PROPOSAL_CARD_UNNOTED = "proposal-card-unnoted"  # proposed and the card posted; its place not stored


class PartlyRecorded(ActionError):
    """Raised when the bot's database failed after an operation's first write committed.

    Unlike ``StorageUnavailable`` the first step stands, so trying again would be refused (an approval)
    or make a duplicate (a proposal): the person is told what is recorded and what happens next.
    The message names the database's trouble for the log; people are told a fixed sentence per
    ``recorded``.
    """

    def __init__(self, message: str, *, proposal_id: int, recorded: Recorded) -> None:
        super().__init__(message)
        self.proposal_id = proposal_id
        self.recorded = recorded


class PreflightFailed(ActionError):
    """Raised when a request fails a preflight check; ``report`` holds every check with its data."""

    def __init__(self, message: str, *, report: object) -> None:
        super().__init__(message)
        self.report = report
