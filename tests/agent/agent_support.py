"""Test doubles for the agent's tests: a movable clock and a notifier that records the cards it would post.

Everything else the agent talks to is real: the PD simulator over HTTP through ``PDClient``,
``PDObserver`` and ``PDCluster``, the SQLite store and ``Operations``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from actions.models import ActionResult, Proposal
from actions.ports import CardRef

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PROPOSAL_CHANNEL = "C0PROPOSALS"


class FakeClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class RecordingNotifier:
    """Records the cards the bot would post, and where."""

    published: list[tuple[Proposal, str | None]] = field(default_factory=list)
    updates: list[Proposal] = field(default_factory=list)

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        self.published.append((proposal, channel))
        return CardRef(channel=channel or "C0OPS", message_ts=f"1700000000.{proposal.id:06d}")

    async def update(self, proposal: Proposal) -> None:
        self.updates.append(proposal)

    async def progress(self, proposal: Proposal, text: str) -> None:
        return None

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        return None
