"""Verification: after an action, PD is read back and the result says whether the change is visible."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cluster_fake import FakeCluster, standard_cluster

from actions.catalog import CATALOG, parse_action
from actions.models import ActionRequest, ActionType, CheckStatus, OperatorOutcome
from actions.preflight import run_preflight
from actions.verify import Verdict, verify

Change = Callable[[FakeCluster], object]


def _request(words: str) -> ActionRequest:
    action, params = parse_action(words.split())
    return ActionRequest(action=action, params=params, requester="U0ALICE")


def _nothing(cluster: FakeCluster) -> None:
    return None


def _split(cluster: FakeCluster) -> None:
    cluster.set_region(12, end_key="7480000000000000FF10", version=6)
    cluster.put_region(15, "7480000000000000FF10", "7480000000000000FF14", [1, 2, 3], version=6)


def _evicted_all(cluster: FakeCluster) -> None:
    cluster.evicting = [4]
    cluster.set_store(4, leader_count=0)


def _merge(cluster: FakeCluster) -> None:
    del cluster.regions[12]
    cluster.set_region(13, start_key="7480000000000000FF0A", version=7)


# words, change PD made (or did not make), expected status and verdict, text in the evidence. A WARN
# that confirms is a change PD shows but is still settling (or cannot fully tell): it counts as done.
CASES: list[tuple[str, Change, CheckStatus, Verdict, str]] = [
    (
        "transfer-leader 12 2",
        lambda c: c.set_region(12, leader_store_id=2),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "is on store 2",
    ),
    ("transfer-leader 12 2", _nothing, CheckStatus.FAIL, Verdict.REFUTED, "is on store 1, not store 2"),
    (
        "add-peer 12 4",
        lambda c: c.put_region(12, "7480000000000000FF0A", "7480000000000000FF14", [1, 2, 3, 4]),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "has a voter on store 4",
    ),
    (
        "add-peer 12 4",
        lambda c: c.put_region(12, "7480000000000000FF0A", "7480000000000000FF14", [1, 2, 3, (4, "Learner")]),
        CheckStatus.WARN,
        Verdict.CONFIRMED,
        "still a Learner",
    ),
    ("add-peer 12 4", _nothing, CheckStatus.FAIL, Verdict.REFUTED, "has no peer on store 4"),
    (
        "remove-peer 12 3",
        lambda c: c.put_region(12, "7480000000000000FF0A", "7480000000000000FF14", [1, 2]),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "no peer on store 3 any more",
    ),
    ("remove-peer 12 3", _nothing, CheckStatus.FAIL, Verdict.REFUTED, "still has a peer on store 3"),
    (
        "transfer-peer 12 3 4",
        lambda c: c.put_region(12, "7480000000000000FF0A", "7480000000000000FF14", [1, 2, 4]),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "moved from store 3 to store 4",
    ),
    (
        "transfer-peer 12 3 4",
        lambda c: c.put_region(12, "7480000000000000FF0A", "7480000000000000FF14", [1, 2, 3, (4, "Learner")]),
        CheckStatus.WARN,
        Verdict.CONFIRMED,
        "still moving",
    ),
    ("split-region 12", _split, CheckStatus.PASS, Verdict.CONFIRMED, "version 5 → 6, range narrowed"),
    ("split-region 12", _nothing, CheckStatus.FAIL, Verdict.REFUTED, "did not split"),
    ("merge-region 12 13", _merge, CheckStatus.PASS, Verdict.CONFIRMED, "region 12 merged into region 13"),
    ("merge-region 12 13", _nothing, CheckStatus.FAIL, Verdict.REFUTED, "region 12 still exists"),
    (
        "scatter-region 12",
        lambda c: c.put_region(12, "7480000000000000FF0A", "7480000000000000FF14", [3, 4, 5]),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "now has peers on stores 3, 4 and 5",
    ),
    ("scatter-region 12", _nothing, CheckStatus.WARN, Verdict.CONFIRMED, "PD found nothing to scatter"),
    (
        "cancel-operator 12",
        lambda c: c.put_operator(12, OperatorOutcome.CANCEL),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "CANCEL",
    ),
    (
        "cancel-operator 12",
        lambda c: c.put_operator(12, OperatorOutcome.RUNNING),
        CheckStatus.FAIL,
        Verdict.REFUTED,
        "still runs",
    ),
    (
        "evict-leader 4",
        _evicted_all,
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "holds none",
    ),
    (
        "evict-leader 4",
        lambda c: setattr(c, "evicting", [4]),
        CheckStatus.WARN,
        Verdict.CONFIRMED,
        "10 still to move",
    ),
    (
        "evict-leader 4",
        _nothing,
        CheckStatus.FAIL,
        Verdict.REFUTED,
        "is not evicting leaders (no evict-leader on it)",
    ),
    ("remove-evict-leader 4", _nothing, CheckStatus.PASS, Verdict.CONFIRMED, "may hold leaders again"),
    (
        "remove-evict-leader 4",
        lambda c: setattr(c, "evicting", [4]),
        CheckStatus.FAIL,
        Verdict.REFUTED,
        "still evicting",
    ),
    (
        "pause-scheduler balance-region-scheduler 60",
        lambda c: c.paused.append("balance-region-scheduler"),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "is paused",
    ),
    (
        "pause-scheduler balance-region-scheduler 60",
        _nothing,
        CheckStatus.FAIL,
        Verdict.REFUTED,
        "is not paused",
    ),
    (
        "resume-scheduler balance-region-scheduler",
        _nothing,
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "running again",
    ),
    (
        "resume-scheduler balance-region-scheduler",
        lambda c: c.paused.append("balance-region-scheduler"),
        CheckStatus.FAIL,
        Verdict.REFUTED,
        "still paused",
    ),
    (
        "set-config leader-schedule-limit 8",
        lambda c: c.config.update({"leader-schedule-limit": 8}),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "is now 8",
    ),
    (
        "set-config max-store-down-time 1h",
        lambda c: c.config.update({"max-store-down-time": "1h0m0s"}),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "is now 1h0m0s",
    ),
    ("set-config leader-schedule-limit 8", _nothing, CheckStatus.FAIL, Verdict.REFUTED, "is 4, not 8"),
    (
        "set-store-limit 4 30 add-peer",
        lambda c: c.limits[4].update({"add-peer": 30.0}),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "add-peer limit is 30",
    ),
    (
        "set-store-limit 4 30",
        lambda c: c.limits[4].update({"add-peer": 30.0}),
        CheckStatus.FAIL,
        Verdict.REFUTED,
        "remove-peer limit is 15.0, not 30",
    ),
    (
        "offline-store 4",
        lambda c: c.set_store(4, state_name="Tombstone"),
        CheckStatus.PASS,
        Verdict.CONFIRMED,
        "store 4 is Tombstone: every region moved off it",
    ),
    (
        "offline-store 4",
        lambda c: c.set_store(4, state_name="Offline"),
        CheckStatus.FAIL,
        Verdict.REFUTED,
        "store 4 is still Offline",  # a drain under way is not a drain done
    ),
    ("offline-store 4", _nothing, CheckStatus.FAIL, Verdict.REFUTED, "store 4 is Up, not draining"),
    ("cancel-offline 4", _nothing, CheckStatus.PASS, Verdict.CONFIRMED, "store 4 is Up"),
    (
        "cancel-offline 4",
        lambda c: c.set_store(4, state_name="Offline"),
        CheckStatus.FAIL,
        Verdict.REFUTED,
        "store 4 is Offline",
    ),
]


@pytest.mark.parametrize(
    ("words", "change", "status", "verdict", "text"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES]
)
async def test_verification_reads_pd_back(
    words: str, change: Change, status: CheckStatus, verdict: Verdict, text: str
) -> None:
    """Verification compares PD after the action with what the action asked for (and the preflight facts)."""
    cluster = standard_cluster()
    request = _request(words)
    report = await run_preflight(request, cluster)
    change(cluster)
    result = await verify(request, report.facts, cluster)
    assert (result.check.status, result.verdict) == (status, verdict), result.evidence
    assert text in result.evidence and result.evidence == result.check.message
    assert result.check.name == f"verify {request.action.value}"


async def test_every_action_has_a_verifier() -> None:
    """No action is executed without a way to check it afterwards: each catalog entry carries one."""
    assert set(CATALOG) == set(ActionType)
    assert all(callable(spec.verify_fn) for spec in CATALOG.values())


async def test_pd_unreachable_during_verification_is_a_warning_not_an_exception() -> None:
    """If PD cannot be read afterwards, verification says so instead of failing the action or raising."""
    cluster = standard_cluster()
    request = _request("transfer-leader 12 2")
    report = await run_preflight(request, cluster)
    cluster.fail.add("get_region")
    result = await verify(request, report.facts, cluster)
    assert (result.verdict, result.check.status) == (Verdict.UNKNOWN, CheckStatus.WARN)
    assert result.evidence.startswith("could not verify: PD unreachable")
