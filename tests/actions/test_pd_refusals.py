"""Preflight mirrors PD's own refusal rules for the operators the bot creates (docs/pd-refusals.md)."""

from __future__ import annotations

import dataclasses

from cluster_fake import FakeCluster, standard_cluster

from actions.catalog import parse_action
from actions.models import ActionRequest, CheckStatus, PreflightReport
from actions.preflight import run_preflight


async def _preflight(cluster: FakeCluster, text: str) -> PreflightReport:
    action, params = parse_action(text.split())
    return await run_preflight(ActionRequest(action=action, params=params, requester="U0A"), cluster)


def _failed(report: PreflightReport) -> dict[str, str]:
    return {c.name: c.message for c in report.checks if c.status is CheckStatus.FAIL}


def _witness(cluster: FakeCluster, region_id: int, store_id: int) -> None:
    region = cluster.regions[region_id]
    peers = tuple(
        dataclasses.replace(p, is_witness=True) if p.store_id == store_id else p for p in region.peers
    )
    cluster.set_region(region_id, peers=peers)


async def test_a_leader_never_moves_to_a_witness() -> None:
    cluster = standard_cluster()
    assert not (await _preflight(cluster, "transfer-leader 12 2")).blocked
    _witness(cluster, 12, 2)
    failed = _failed(await _preflight(cluster, "transfer-leader 12 2"))
    assert (
        "witness" in failed["target holds a voter"]
        and "target leader is not allowed" in failed["target holds a voter"]
    )


async def test_a_leader_never_moves_to_a_store_pd_marks_reject_leader() -> None:
    cluster = standard_cluster()
    cluster.set_store(2, labels={"zone": "z2", "host": "h2"})
    cluster.reject_leader = {("zone", "z2")}
    report = await _preflight(cluster, "transfer-leader 12 2")
    assert "zone=z2" in _failed(report)["target store"]
    assert report.facts["reject_leader"] == {"2": ["zone=z2"]}
    cluster.reject_leader = {("zone", "z9")}
    assert not (await _preflight(cluster, "transfer-leader 12 2")).blocked


async def test_merge_needs_fully_replicated_regions() -> None:
    cluster = standard_cluster()
    assert not (await _preflight(cluster, "merge-region 12 13")).blocked
    _witness(cluster, 13, 3)
    failed = _failed(await _preflight(cluster, "merge-region 12 13"))
    assert "region 13 is not fully replicated (witnesses on store 3" in failed["target region replicated"]
    cluster = standard_cluster()
    cluster.set_role(12, 3, "Learner")
    failed = _failed(await _preflight(cluster, "merge-region 12 13"))
    assert "learners on store 3" in failed["source region replicated"]
    cluster = standard_cluster()
    cluster.config["max-replicas"] = 5
    failed = _failed(await _preflight(cluster, "merge-region 12 13"))
    assert "3 full voters where max-replicas is 5" in failed["source region replicated"]


async def test_removing_the_leaders_peer_needs_a_peer_that_may_lead() -> None:
    cluster = standard_cluster()
    assert not (await _preflight(cluster, "remove-peer 12 1")).blocked
    cluster.evicting = [2]
    _witness(cluster, 12, 3)
    failed = _failed(await _preflight(cluster, "remove-peer 12 1"))
    assert "no valid leader" in failed["leader can move away"]
    # A follower's peer can go: the leader stays where it is.
    assert "leader can move away" not in _failed(await _preflight(cluster, "remove-peer 12 2"))
    # transfer-peer brings a new peer that may take the leader.
    report = await _preflight(cluster, "transfer-peer 12 1 4")
    assert "leader can move away" not in _failed(report)


async def test_a_hot_region_is_not_scattered() -> None:
    cluster = standard_cluster()
    assert not (await _preflight(cluster, "scatter-region 12")).blocked
    cluster.hot = {12}
    assert "is a hot region" in _failed(await _preflight(cluster, "scatter-region 12"))["region not hot"]


async def test_a_new_copy_keeps_the_failure_domains_apart() -> None:
    """Stricter than PD: sharing the isolation level warns, and fails when isolation-level asks for it."""
    cluster = standard_cluster()
    for store_id, zone in {1: "z1", 2: "z2", 3: "z3", 4: "z1", 5: "z4"}.items():
        cluster.set_store(store_id, labels={"zone": zone, "host": f"h{store_id}"})
    cluster.config["location-labels"] = "zone,host"
    cluster.config["isolation-level"] = ""
    report = await _preflight(cluster, "add-peer 12 4")
    isolation = next(c for c in report.checks if c.name == "isolation")
    assert isolation.status is CheckStatus.WARN and "zone=z1 like store 1" in isolation.message
    assert "store 5 would keep them apart" in isolation.message
    cluster.config["isolation-level"] = "zone"
    assert "pick store 5" in _failed(await _preflight(cluster, "add-peer 12 4"))["isolation"]
    assert "isolation" not in _failed(await _preflight(cluster, "add-peer 12 5"))
    # Moving the z1 copy from store 1 to store 4 keeps the zones apart.
    assert "isolation" not in _failed(await _preflight(cluster, "transfer-peer 12 1 4"))
