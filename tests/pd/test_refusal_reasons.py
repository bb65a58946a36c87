"""PD's refusal texts are read once into a typed reason (pd.errors); actions.explain says each in words."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actions.errors import ClusterRejected, Refusal, RefusalReason
from actions.explain import explain_rejection
from pd.convert import translate
from pd.errors import PDError, decipher_response, refusal_of

JSON = "application/json; charset=UTF-8"
R = RefusalReason

# PD's answer (status, quoted JSON text as its handlers write it), the request's parameters, the typed
# refusal, and the sentence the person sees.
CASES: list[tuple[int, str, dict[str, Any], Refusal | None, str]] = [
    (
        500,
        "[PD:operator:ErrOperatorBuild]region has no voter in store 7",
        {"region_id": 12, "to_store_id": 7},
        Refusal(R.NO_VOTER_ON_STORE, ("7",)),
        "PD refused: region 12 has no voter on store 7 — pick a store that holds a voter of this region.",
    ),
    (
        500,
        "region has no peer in store 5",
        {"region_id": 12, "store_id": 5},
        Refusal(R.NO_PEER_ON_STORE, ("5",)),
        "PD refused: region 12 has no peer on store 5 — pick a store that holds a peer of it.",
    ),
    (
        500,
        "region already has peer in store 3",
        {"region_id": 12, "store_id": 3},
        Refusal(R.PEER_ALREADY_ON_STORE, ("3",)),
        "PD refused: region 12 already has a peer on store 3 — pick another store.",
    ),
    (
        500,
        "region 12 has abnormal peer",
        {"region_id": 12},
        Refusal(R.ABNORMAL_PEER, ("12",)),
        "PD refused: region 12 has down or pending peers — it must be healthy and fully replicated first.",
    ),
    (
        404,
        "[PD:region:ErrRegionNotFound]region 99 not found",
        {"region_id": 99},
        Refusal(R.REGION_NOT_FOUND, ("99",)),
        "PD refused: region 99 does not exist (it may have been split or merged) — look it up again.",
    ),
    (
        500,
        "region 12 is a hot region",
        {"region_id": 12},
        Refusal(R.HOT_REGION, ("12",)),
        "PD refused: region 12 is hot right now, so PD will not scatter it — try again later.",
    ),
    (
        404,
        "[PD:core:ErrStoreNotFound]store 9 not found",
        {"store_id": 9},
        Refusal(R.STORE_NOT_FOUND, ("9",)),
        "PD refused: store 9 does not exist — check the store id with /tikv status.",
    ),
    (
        410,
        "store 4 has been removed",
        {"store_id": 4},
        Refusal(R.STORE_REMOVED, ("4",)),
        "PD refused: store 4 has been removed from the cluster — pick another store.",
    ),
    (
        500,
        "store 4 has been physically destroyed",
        {"store_id": 4},
        Refusal(R.STORE_REMOVED, ("4",)),
        "PD refused: store 4 has been removed from the cluster — pick another store.",
    ),
    (
        500,
        "store 4 is unhealthy",
        {"region_id": 12, "store_id": 4},
        Refusal(R.STORE_UNHEALTHY, ("4",)),
        "PD refused: store 4 is unhealthy (no heartbeat for 10 minutes) — pick a healthy store.",
    ),
    (
        500,
        "can not remove store 4 since the number of up stores would be 2 while need 3",
        {"store_id": 4},
        Refusal(R.TOO_FEW_UP_STORES, ("4", "2", "3")),
        "PD refused: store 4 cannot go offline: only 2 Up stores would remain and 3 are needed for the "
        "configured replicas.",
    ),
    (
        500,
        "failed to add operator, maybe already have one",
        {"region_id": 12, "to_store_id": 3},
        Refusal(R.OPERATOR_EXISTS),
        "PD refused: region 12 already has an operator created by someone — wait for it to finish, or cancel "
        "it with cancel-operator 12.",
    ),
    (
        500,
        "no operator step is built",
        {"region_id": 12, "to_store_id": 1},
        Refusal(R.NOTHING_TO_DO),
        "PD refused: nothing to do: store 1 is already the leader of region 12.",
    ),
    (
        500,
        "target leader is not allowed",
        {"region_id": 12, "to_store_id": 2},
        Refusal(R.LEADER_NOT_ALLOWED),
        "PD refused: store 2 does not accept leaders now (evicted, down or excluded by a label rule) — pick "
        "another store.",
    ),
    (
        500,
        "two regions are not adjacent",
        {"source_region_id": 12, "target_region_id": 20},
        Refusal(R.NOT_ADJACENT),
        "PD refused: the two regions are not neighbours — only adjacent regions can merge.",
    ),
    (
        500,
        "cannot split region which is in joint state",
        {"region_id": 12},
        Refusal(R.JOINT_STATE),
        "PD refused: region 12 is in the middle of a membership change — try again in a minute.",
    ),
    (
        400,
        "split key 7G is not in hex format",
        {"region_id": 12},
        Refusal(R.SPLIT_KEY_NOT_HEX, ("7G",)),
        "PD refused: the split key 7G is not hex — write keys as hex, e.g. 7480000000000000FF.",
    ),
    (
        500,
        "[PD:schedule:ErrOperatorNotFound]operator not found",
        {"region_id": 12},
        Refusal(R.OPERATOR_NOT_FOUND),
        "PD refused: region 12 has no running operator to cancel.",
    ),
    (
        500,
        "scheduler existed",
        {"store_id": 4},
        Refusal(R.SCHEDULER_EXISTS),
        "PD refused: that scheduler is already running.",
    ),
    (
        500,
        "[PD:scheduler:ErrSchedulerNotFound]scheduler not found",
        {"scheduler": "balance-hot-region-scheduler"},
        Refusal(R.SCHEDULER_NOT_FOUND),
        "PD refused: no scheduler by that name is running — see /tikv status for the list.",
    ),
    (
        400,
        "config item max-replica not found",
        {"key": "max-replica", "value": 3},
        Refusal(R.CONFIG_ITEM_NOT_FOUND, ("max-replica",)),
        "PD refused: PD has no config item max-replica — check the key's spelling.",
    ),
    (
        400,
        "invalid rate",
        {"store_id": 4, "rate": 0},
        Refusal(R.INVALID_RATE),
        "PD refused: the rate must be larger than 0.",
    ),
    (
        500,
        "[PD:common:ErrSomethingNew]something PD never said before",
        {"region_id": 12},
        None,
        "PD refused (HTTP 500): something PD never said before.",
    ),
]


def _rejected(status: int, text: str) -> ClusterRejected:
    with pytest.raises(PDError) as caught:
        decipher_response(status, JSON, json.dumps(text).encode(), request_name="Write", path="/pd/api/v1/x")
    error = translate(caught.value)
    assert isinstance(error, ClusterRejected)
    return error


@pytest.mark.parametrize(
    ("status", "text", "params", "refusal", "sentence"), CASES, ids=[c[1][:40] for c in CASES]
)
def test_a_refusal_reads_as_the_same_sentence(
    status: int, text: str, params: dict[str, Any], refusal: Refusal | None, sentence: str
) -> None:
    """What PD said, through the adapter, reads to the person as it always has."""
    assert explain_rejection(_rejected(status, text), params) == sentence


@pytest.mark.parametrize(
    ("status", "text", "params", "refusal", "sentence"), CASES, ids=[c[1][:40] for c in CASES]
)
def test_pd_errors_decide_the_reason_once(
    status: int, text: str, params: dict[str, Any], refusal: Refusal | None, sentence: str
) -> None:
    """The typed reason is decided in pd.errors and carried to the domain's ClusterRejected unchanged."""
    assert refusal_of(text) == refusal
    assert _rejected(status, text).refusal == refusal


def test_every_reason_has_a_sentence_and_a_case() -> None:
    assert {c[3].reason for c in CASES if c[3] is not None} == set(RefusalReason)


def test_the_sentence_follows_the_reason_not_the_text() -> None:
    """explain reads the typed reason: a rejection whose text says one thing but whose reason says
    another is explained by its reason."""
    error = ClusterRejected("anything at all", status=500, refusal=Refusal(R.STORE_UNHEALTHY, ("6",)))
    assert explain_rejection(error, {}) == (
        "PD refused: store 6 is unhealthy (no heartbeat for 10 minutes) — pick a healthy store."
    )
    plain = ClusterRejected("store 6 is unhealthy", status=500)
    assert explain_rejection(plain, {}) == "PD refused (HTTP 500): store 6 is unhealthy."
