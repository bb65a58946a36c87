"""What the agent found: findings, the actions they suggest, and the open findings people see.

A finding is one problem with a stable key (``store-down:4``); its ticket carries that key, so the
same problem keeps one ticket however many cycles see it. ``open_findings_summary`` is what
``/tikv status`` and the cards show.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from actions.models import ActionType, Evidence, ParamValue, Ticket
from actions.ports import ProposalStore


class FindingKind(enum.StrEnum):
    """Kinds of finding; the value is the ticket key's prefix. Declaration order is severity order."""

    PD_NO_LEADER = "pd-no-leader"
    REGION_NO_LEADER = "region-no-leader"
    STORE_DOWN = "store-down"
    SCHEDULING_HALTED = "scheduling-halted"
    SCHEDULE_LIMIT_ZERO = "schedule-limit-zero"
    DOWN_PEER = "down-peer"
    MISS_PEER = "miss-peer"
    STORE_LOW_SPACE = "store-low-space"
    STORE_LIMIT_ZERO = "store-limit-zero"
    SCHEDULER_PAUSED = "scheduler-paused"
    SCHEDULER_REMOVED = "scheduler-removed"
    STALE_EVICT_LEADER = "stale-evict-leader"
    PENDING_PEER = "pending-peer"
    LEADER_IMBALANCE = "leader-imbalance"
    REGION_IMBALANCE = "region-imbalance"
    OVERSIZED_REGION = "oversized-region"
    HOT_WRITE = "hot-write"
    HOT_READ = "hot-read"

    @property
    def severity(self) -> int:
        """0 is the most urgent."""
        return list(FindingKind).index(self)

    @classmethod
    def of_key(cls, key: str) -> FindingKind | None:
        """The kind a ticket key belongs to, or None for tickets the agent did not open."""
        prefix, sep, _ = key.partition(":")
        if not sep:
            return None
        try:
            return cls(prefix)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """One catalog action a finding suggests, with the reason in words."""

    action: ActionType
    params: Mapping[str, ParamValue]
    rationale: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem seen in one observation, with the numbers that show it."""

    kind: FindingKind
    subject: str  # the store or region id, or "cluster"
    title: str
    evidence: tuple[Evidence, ...]
    proposals: tuple[ProposedAction, ...] = ()
    note: str = ""  # what people should know besides (or instead of) the proposals

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.subject}"

    @property
    def severity(self) -> int:
        return self.kind.severity

    def ticket_detail(self) -> dict[str, object]:
        """What the ticket stores: enough to render the finding without the observation."""
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "evidence": [e.model_dump() for e in self.evidence],
            "note": self.note,
        }


def is_agent_ticket(ticket: Ticket) -> bool:
    """Whether the agent opened this ticket (its key names a finding kind)."""
    return FindingKind.of_key(ticket.key) is not None


def describe_ticket(ticket: Ticket) -> str:
    """``#12 Store 4 is Down (store-down:4, open since 2026-11-02 09:14 UTC)``."""
    since = ticket.created_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    return f"#{ticket.id} {ticket.title} ({ticket.key}, open since {since})"


async def open_findings(store: ProposalStore) -> list[Ticket]:
    """The agent's open tickets, most severe first, then oldest first."""
    tickets = [t for t in await store.list_open_tickets() if is_agent_ticket(t)]

    def order(ticket: Ticket) -> tuple[int, float, int]:
        kind = FindingKind.of_key(ticket.key)
        severity = kind.severity if kind is not None else len(FindingKind)
        return (severity, ticket.created_at.timestamp(), ticket.id)

    return sorted(tickets, key=order)


async def open_findings_summary(store: ProposalStore) -> list[str]:
    """One line per open finding, most severe first, for ``/tikv status`` and the cards."""
    return [describe_ticket(t) for t in await open_findings(store)]
