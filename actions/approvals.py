"""Waiting for a person's decision: the agent proposes, then awaits approval, rejection or expiry.

    PENDING ──approve──▶ APPROVED ─▶ EXECUTING ─▶ SUCCEEDED | FAILED | UNKNOWN     decided: returned
       ├──reject──▶ REJECTED                                                       decided: returned
       ├──TTL──▶ EXPIRED                                                           decided: returned
       └──cluster changed──▶ SUPERSEDED                                            decided: returned

The truth is the store. ``Operations`` sets an in-process event on every decision so a waiter wakes at
once; without one (a decision made by another replica) the waiter still re-reads the store when its
timeout or the proposal's TTL comes, and expires the proposal itself if nobody else did.
"""

from __future__ import annotations

import asyncio

from actions.clock import Clock
from actions.errors import ProposalNotFound
from actions.models import ActionRequest, Actor, Proposal, ProposalState
from actions.ports import ProposalStore
from actions.service import IN_FLIGHT, Operations

# Re-read the store at least this often even without a signal (decisions made by other replicas).
_RECHECK_SECONDS = 5.0


class ApprovalManager:
    """Propose and wait for the decision, for callers (the agent) that need the outcome."""

    def __init__(self, operations: Operations, store: ProposalStore, clock: Clock) -> None:
        self._operations = operations
        self._store = store
        self._clock = clock

    async def request_approval(
        self,
        request: ActionRequest,
        *,
        actor: Actor,
        timeout: float,  # noqa: ASYNC109 - a deadline for a human decision, not for an I/O call
        channel: str | None = None,
    ) -> Proposal:
        """Propose ``request`` and wait up to ``timeout`` seconds for it to be decided.

        Returns the proposal as stored: decided (succeeded, failed, unknown, rejected, expired,
        superseded) or, on timeout, still pending. Refusals of the proposal itself raise as in
        ``Operations.propose``.
        """
        proposal = await self._operations.propose(request, actor=actor, channel=channel)
        return await self.wait_for_decision(proposal.id, timeout=timeout)

    async def wait_for_decision(self, proposal_id: int, *, timeout: float) -> Proposal:  # noqa: ASYNC109
        """Wait until ``proposal_id`` leaves pending/approved/executing, or ``timeout`` seconds pass."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        signals = self._operations.signals
        while True:
            wake = signals.subscribe(proposal_id)
            try:
                stored = await self._store.get_proposal(proposal_id)
                if stored is None:
                    raise ProposalNotFound(f"There is no proposal #{proposal_id}.")
                proposal = await self._operations.expire_if_due(stored)
                remaining = deadline - loop.time()
                if proposal.state not in IN_FLIGHT or remaining <= 0:
                    return proposal
                wait = min(remaining, _RECHECK_SECONDS)
                if proposal.state is ProposalState.PENDING:
                    until_expiry = (proposal.expires_at - self._clock()).total_seconds()
                    wait = min(wait, max(until_expiry, 0.0) + 0.01)
                try:
                    await asyncio.wait_for(wake.wait(), timeout=wait)
                except TimeoutError:
                    pass
            finally:
                signals.unsubscribe(proposal_id, wake)
