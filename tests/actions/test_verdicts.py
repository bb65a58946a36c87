"""Typed verdicts: the executor and the reconciler branch on a verification's kind, never on its words."""

from __future__ import annotations

from typing import Any

import pytest

from actions.executor import change_visible
from actions.models import CheckResult, CheckStatus, OperatorOutcome, ProposalState
from actions.ports import OperatorSnapshot
from actions.reconcile import Found, Settlement, needs_verification, settle
from actions.verifiers import Verdict, Verification, confirmed, partly, refuted, unknown


def _verification(verdict: Verdict, evidence: str, **data: Any) -> Verification:
    status = {Verdict.CONFIRMED: CheckStatus.PASS, Verdict.REFUTED: CheckStatus.FAIL}.get(
        verdict, CheckStatus.WARN
    )
    return Verification(verdict, CheckResult(name="verify x", status=status, message=evidence, data=data))


# verdict, evidence (worded to mislead a check of the text), what the executor makes of it
VISIBLE: list[tuple[Verification | None, bool | None]] = [
    (_verification(Verdict.CONFIRMED, "could not verify: this wording means nothing"), True),
    (_verification(Verdict.REFUTED, "could not verify: nor here"), False),
    (_verification(Verdict.UNKNOWN, "PD shows the change"), None),
    (_verification(Verdict.UNKNOWN, "could not verify: PD unreachable"), None),
    (partly("store 4 is evicting leaders; 3 still to move"), True),
    (None, None),
]


@pytest.mark.parametrize(("verification", "visible"), VISIBLE)
def test_the_executor_reads_the_verdict_not_the_message(
    verification: Verification | None, visible: bool | None
) -> None:
    assert change_visible(verification) is visible


@pytest.mark.parametrize(
    ("made", "verdict", "status"),
    [
        (confirmed("done"), Verdict.CONFIRMED, CheckStatus.PASS),
        (partly("on its way"), Verdict.CONFIRMED, CheckStatus.WARN),
        (refuted("old state"), Verdict.REFUTED, CheckStatus.FAIL),
        (unknown("could not read"), Verdict.UNKNOWN, CheckStatus.WARN),
    ],
)
def test_each_verdict_shows_as_a_check_status(
    made: Verification, verdict: Verdict, status: CheckStatus
) -> None:
    assert (made.verdict, made.check.status) == (verdict, status)
    assert made.named("verify add-peer").check.name == "verify add-peer"


def _op(outcome: OperatorOutcome) -> OperatorSnapshot:
    return OperatorSnapshot(
        region_id=12, outcome=outcome, desc="admin-transfer-leader", brief="leader 1 to 4"
    )


SEEN = _verification(Verdict.CONFIRMED, "the leader of region 12 is on store 4")
OLD = _verification(Verdict.REFUTED, "the leader of region 12 is on store 1, not store 4")
BLIND = _verification(Verdict.UNKNOWN, "could not verify: PD unreachable")
OFFLINE = _verification(Verdict.REFUTED, "store 4 is still Offline: 7 regions left", state="Offline")


def _found(
    *,
    operator: OperatorSnapshot | None = None,
    verification: Verification | None = None,
    creates_operator: bool = True,
    drains: bool = False,
    recent: bool = True,
) -> Found:
    return Found(
        creates_operator=creates_operator,
        drains=drains,
        region=12 if creates_operator else None,
        operator=operator,
        verification=verification,
        recent=recent,
    )


# what PD showed -> state recorded (None: ask again later), operator outcome, still followed, text in message
SETTLE: list[tuple[str, Found, ProposalState | None, OperatorOutcome, bool, str]] = [
    (
        "our operator is running",
        _found(operator=_op(OperatorOutcome.RUNNING)),
        ProposalState.SUCCEEDED,
        OperatorOutcome.RUNNING,
        True,
        "PD is running the operator (leader 1 to 4); following it.",
    ),
    (
        "our operator finished",
        _found(operator=_op(OperatorOutcome.SUCCESS), verification=SEEN),
        ProposalState.SUCCEEDED,
        OperatorOutcome.SUCCESS,
        False,
        "PD finished the operator on region 12",
    ),
    (
        "our operator timed out",
        _found(operator=_op(OperatorOutcome.TIMEOUT)),
        ProposalState.FAILED,
        OperatorOutcome.TIMEOUT,
        False,
        "timed out",
    ),
    (
        "our operator was cancelled",
        _found(operator=_op(OperatorOutcome.CANCEL)),
        ProposalState.FAILED,
        OperatorOutcome.CANCEL,
        False,
        "was cancelled",
    ),
    (
        "a drain under way",
        _found(verification=OFFLINE, creates_operator=False, drains=True),
        ProposalState.SUCCEEDED,
        OperatorOutcome.RUNNING,
        True,
        "still Offline: 7 regions left; following the drain.",
    ),
    (
        "no operator, the change shows",
        _found(verification=SEEN),
        ProposalState.SUCCEEDED,
        OperatorOutcome.NONE,
        False,
        "PD shows the change (the leader of region 12 is on store 4).",
    ),
    (
        "no operator within its record's ten minutes, the old state",
        _found(verification=OLD),
        ProposalState.FAILED,
        OperatorOutcome.NONE,
        False,
        "PD shows no operator for region 12 and not the change",
    ),
    (
        "no operator after its record would be gone, the old state",
        _found(verification=OLD, recent=False),
        ProposalState.UNKNOWN,
        OperatorOutcome.NONE,
        False,
        "PD cannot tell whether the request took effect",
    ),
    (
        "a scheduler change PD does not show, however old",
        _found(verification=OLD, creates_operator=False, recent=False),
        ProposalState.FAILED,
        OperatorOutcome.NONE,
        False,
        "PD shows not the change",
    ),
    (
        "an operator action PD cannot be read for",
        _found(verification=BLIND),
        ProposalState.UNKNOWN,
        OperatorOutcome.NONE,
        False,
        "PD cannot tell",
    ),
    (
        "a scheduler change PD cannot be read for",
        _found(verification=BLIND, creates_operator=False),
        None,
        OperatorOutcome.NONE,
        False,
        "",
    ),
    ("the check could not run", _found(verification=None), None, OperatorOutcome.NONE, False, ""),
]


@pytest.mark.parametrize(
    ("case", "found", "state", "operator", "following", "text"), SETTLE, ids=[c[0] for c in SETTLE]
)
def test_a_write_left_executing_settles_from_what_pd_shows(
    case: str,
    found: Found,
    state: ProposalState | None,
    operator: OperatorOutcome,
    following: bool,
    text: str,
) -> None:
    settled = settle(found)
    if state is None:
        assert settled is None
        return
    assert isinstance(settled, Settlement)
    assert (settled.state, settled.operator, settled.following) == (state, operator, following)
    assert settled.message.startswith("Found after a restart: ") and text in settled.message
    if found.operator is not None:
        assert settled.detail["operator"] == found.operator.outcome.value
    else:
        assert found.verification is not None
        assert settled.detail["verification"]["message"] == found.verification.evidence


def _settled(found: Found) -> Settlement:
    settled = settle(found)
    assert settled is not None
    return settled


def test_the_verification_is_recorded_only_when_it_says_something_about_the_change() -> None:
    """A finished operator that failed records none; a successful one, or a read-back, records its check."""
    assert _settled(_found(operator=_op(OperatorOutcome.TIMEOUT), verification=SEEN)).verification is None
    assert (
        _settled(_found(operator=_op(OperatorOutcome.SUCCESS), verification=SEEN)).verification == SEEN.check
    )
    assert _settled(_found(verification=OLD)).verification == OLD.check


@pytest.mark.parametrize(
    ("outcome", "needed"),
    [
        (None, True),
        (OperatorOutcome.RUNNING, False),
        (OperatorOutcome.SUCCESS, True),
        (OperatorOutcome.TIMEOUT, False),
        (OperatorOutcome.CANCEL, False),
        (OperatorOutcome.REPLACE, False),
    ],
)
def test_pd_is_read_back_only_when_the_operator_does_not_settle_it(
    outcome: OperatorOutcome | None, needed: bool
) -> None:
    assert needs_verification(None if outcome is None else _op(outcome)) is needed
