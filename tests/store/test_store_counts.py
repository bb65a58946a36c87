"""Proposal counts by cluster and state for /metrics: counted once, then kept from the new events."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from store_builders import T0, approval, approved, pending, request

from actions.models import Decision, ProposalState
from store.sqlite import SqliteProposalStore, open_store

PENDING, APPROVED, REJECTED, EXPIRED = (
    ProposalState.PENDING,
    ProposalState.APPROVED,
    ProposalState.REJECTED,
    ProposalState.EXPIRED,
)
DEFAULT = "default"  # the cluster of a request that names none


async def _truth_by_cluster(store: SqliteProposalStore) -> dict[tuple[str, ProposalState], int]:
    found = Counter((p.request.cluster, p.state) for p in await store.list_proposals(limit=1000))
    clusters = {cluster for cluster, _ in found}
    return {(c, state): found.get((c, state), 0) for c in clusters for state in ProposalState}


async def test_counts_follow_every_transition_without_counting_every_row_again(
    store: SqliteProposalStore,
) -> None:
    assert await store.cluster_proposal_counts() == {}
    first = await pending(store)
    await approved(store)
    rejected = await pending(store)
    await store.reject(approval(rejected, "U0BOB", decision=Decision.REJECT))
    await pending(store, ttl=timedelta(seconds=1))
    await store.expire_due(now=T0 + timedelta(seconds=2))
    counts = await store.cluster_proposal_counts()
    assert counts == await _truth_by_cluster(store)
    assert [counts[(DEFAULT, state)] for state in (PENDING, APPROVED, REJECTED, EXPIRED)] == [1, 1, 1, 1]
    await store.add_approval(approval(first, "U0CAROL"), required=1)
    counts = await store.cluster_proposal_counts()
    assert counts == await _truth_by_cluster(store)
    assert counts[(DEFAULT, PENDING)] == 0 and counts[(DEFAULT, APPROVED)] == 2
    assert store._cluster_tally.full_counts == 1  # every later scrape read only the new events


async def test_counts_see_what_another_process_wrote(db_path: str, store: SqliteProposalStore) -> None:
    await pending(store)
    assert (await store.cluster_proposal_counts())[(DEFAULT, PENDING)] == 1
    other = await open_store(db_path)
    try:
        await pending(other)
        await approved(other)
    finally:
        await other.aclose()
    counts = await store.cluster_proposal_counts()
    assert counts == await _truth_by_cluster(store)
    assert counts[(DEFAULT, PENDING)] == 2 and counts[(DEFAULT, APPROVED)] == 1


async def test_counts_by_cluster_follow_every_transition(store: SqliteProposalStore) -> None:
    """Each proposal counts under its own cluster; later scrapes read only the new events."""
    assert await store.cluster_proposal_counts() == {}
    staging = request().model_copy(update={"cluster": "staging"})
    prod = request().model_copy(update={"cluster": "prod"})
    first = await pending(store, req=prod)
    await pending(store, req=staging)
    await approved(store, req=prod)
    counts = await store.cluster_proposal_counts()
    assert counts == await _truth_by_cluster(store)
    assert counts[("prod", PENDING)] == 1 and counts[("prod", APPROVED)] == 1
    assert counts[("staging", PENDING)] == 1 and counts[("staging", APPROVED)] == 0
    await store.add_approval(approval(first, "U0CAROL"), required=1)
    await pending(store, req=staging)
    counts = await store.cluster_proposal_counts()
    assert counts == await _truth_by_cluster(store)
    assert counts[("prod", PENDING)] == 0 and counts[("prod", APPROVED)] == 2
    assert counts[("staging", PENDING)] == 2
    assert store._cluster_tally.full_counts == 1
