"""``ClusterOperations``: one facade over the ``Operations`` of every cluster the bot operates.

Each cluster has its own ``Operations`` (its own PD, policy, executor), which refuses a proposal of
another cluster. This routes each call to the right one, so a proposal is always proposed, re-checked,
edited, approved and executed against its own cluster's PD under its own cluster's policy:

    propose, dry_run              the request's ``cluster``
    approve, reject, edit, undo…  the stored proposal's ``cluster`` (read first)
    pending, audit, get…          the store, shared by every cluster

A cluster nobody configured is refused with the list of those that are, and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from actions.errors import PolicyRefusal
from actions.models import ActionRequest, Actor, AuditEntry, DryRunReport, PreflightReport, Proposal
from actions.operations import ApproveResult, Operations
from actions.policy import Policy
from actions.ports import AuditQuery


def known_list(names: Sequence[str]) -> str:
    """```staging`, `prod``` — the clusters, as a person reads them."""
    return ", ".join(f"`{name}`" for name in names)


class ClusterOperations:
    """Routes every call to the ``Operations`` of the cluster it is about."""

    def __init__(self, by_cluster: Mapping[str, Operations], *, default: str) -> None:
        if default not in by_cluster:
            raise ValueError(f"the default cluster {default!r} is not among {sorted(by_cluster)}")
        self._by_cluster = dict(by_cluster)
        self._default = by_cluster[default]
        self.policy: Policy = self._default.policy  # help's list; each cluster decides with its own

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_cluster)

    def of(self, cluster: str, *, done: str = "requested") -> Operations:
        """The cluster's ``Operations``; ``PolicyRefusal`` naming the known clusters otherwise."""
        found = self._by_cluster.get(cluster)
        if found is None:
            raise PolicyRefusal(
                f"There is no cluster `{cluster}` here, so nothing can be {done} on it and nothing was "
                f"sent to PD. This bot operates {known_list(self.names)}."
            )
        return found

    def policy_of(self, cluster: str) -> Policy:
        return self.of(cluster).policy

    async def _owner(self, proposal_id: int, done: str) -> Operations:
        proposal = await self._default.get(proposal_id)
        return self.of(proposal.request.cluster, done=done)

    # --- the store, shared -------------------------------------------------------------------------

    async def get(self, proposal_id: int) -> Proposal:
        return await self._default.get(proposal_id)

    async def pending(self, *, limit: int = 50) -> list[Proposal]:
        return await self._default.pending(limit=limit)

    async def home(self, actor: Actor, *, limit: int = 50) -> tuple[list[Proposal], list[Proposal]]:
        """As ``Operations.home``, each proposal judged by its own cluster's policy."""
        pending = await self.pending(limit=limit)
        awaiting = [
            p
            for p in pending
            if p.requester != actor.user_id
            and (ops := self._by_cluster.get(p.request.cluster)) is not None
            and ops.policy.may_approve(actor, p) is None
        ]
        own = [p for p in pending if p.requester == actor.user_id]
        return awaiting, own

    async def audit(self, query: AuditQuery) -> list[AuditEntry]:
        return await self._default.audit(query)

    async def first_delivery(self, keys: Sequence[str]) -> bool:
        return await self._default.first_delivery(keys)

    # --- by the request's cluster --------------------------------------------------------------------

    async def dry_run(self, request: ActionRequest, *, actor: Actor) -> DryRunReport:
        return await self.of(request.cluster, done="checked").dry_run(request, actor=actor)

    async def propose(self, request: ActionRequest, *, actor: Actor, channel: str | None = None) -> Proposal:
        return await self.of(request.cluster, done="proposed").propose(request, actor=actor, channel=channel)

    # --- by the stored proposal's cluster ------------------------------------------------------------

    async def approve(self, proposal_id: int, *, actor: Actor, revision: int | None = None) -> ApproveResult:
        owner = await self._owner(proposal_id, "approved")
        return await owner.approve(proposal_id, actor=actor, revision=revision)

    async def reject(
        self, proposal_id: int, *, actor: Actor, reason: str = "", revision: int | None = None
    ) -> Proposal:
        owner = await self._owner(proposal_id, "rejected")
        return await owner.reject(proposal_id, actor=actor, reason=reason, revision=revision)

    async def edit(
        self, proposal_id: int, *, actor: Actor, params: Mapping[str, str], revision: int | None = None
    ) -> Proposal:
        owner = await self._owner(proposal_id, "edited")
        return await owner.edit(proposal_id, actor=actor, params=params, revision=revision)

    async def check_edit(self, proposal_id: int, params: Mapping[str, str]) -> PreflightReport:
        return await (await self._owner(proposal_id, "edited")).check_edit(proposal_id, params)

    async def review_modal(
        self, proposal_id: int, *, revision: int, params: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        return await self._default.review_modal(proposal_id, revision=revision, params=params)

    async def undo(self, proposal_id: int, *, actor: Actor, channel: str | None = None) -> Proposal:
        owner = await self._owner(proposal_id, "undone")
        return await owner.undo(proposal_id, actor=actor, channel=channel)

    async def supersede(self, proposal_id: int, *, reason: str) -> Proposal | None:
        return await (await self._owner(proposal_id, "superseded")).supersede(proposal_id, reason=reason)

    async def expire_if_due(self, proposal: Proposal) -> Proposal:
        return await self._default.expire_if_due(proposal)
