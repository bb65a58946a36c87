"""Reading back the operator an action created: which region to ask about, and whether it is ours.

``GET /operators/{region}`` returns the running operator or the last one that finished in the past ten
minutes, whoever created it; a scheduler's operator on the same region must not be taken for ours.
PD names admin operators ``admin-<kind>`` (docs/pd.md, "Reading an operator: text formats").
"""

from __future__ import annotations

from collections.abc import Mapping

from actions.models import ActionRequest, ActionType, OperatorOutcome
from actions.ports import OperatorSnapshot

OPERATOR_DESC: Mapping[ActionType, str] = {
    ActionType.TRANSFER_LEADER: "admin-transfer-leader",
    ActionType.TRANSFER_PEER: "admin-move-peer",
    ActionType.ADD_PEER: "admin-add-peer",
    ActionType.REMOVE_PEER: "admin-remove-peer",
    ActionType.MERGE_REGION: "admin-merge-region",
    ActionType.SPLIT_REGION: "admin-split-region",
    ActionType.SCATTER_REGION: "scatter-region",
}

FINISHED = frozenset(
    {OperatorOutcome.SUCCESS, OperatorOutcome.TIMEOUT, OperatorOutcome.CANCEL, OperatorOutcome.REPLACE}
)


def operator_region(request: ActionRequest) -> int | None:
    """The region whose operator reports this action's outcome.

    A merge creates one operator per region. The source's ends CANCEL ("region not found") once the
    source has been merged away; the target's passive step ends SUCCESS when the target's range grows,
    so the target is the one to follow.
    """
    keys = ("target_region_id",) if request.action is ActionType.MERGE_REGION else ("region_id",)
    for key in keys:
        value = request.params.get(key)
        if isinstance(value, int):
            return value
    return None


def is_ours(operator: OperatorSnapshot, request: ActionRequest) -> bool:
    """Whether ``operator`` is the kind this action creates (not a scheduler's or checker's)."""
    expected = OPERATOR_DESC.get(request.action)
    return expected is None or operator.desc == expected or operator.desc.startswith(expected)


def describe(operator: OperatorSnapshot) -> str:
    """``admin-transfer-leader (transfer leader: store 1 to 4): RUNNING`` — one line for people."""
    brief = f" ({operator.brief})" if operator.brief else ""
    return f"{operator.desc or 'operator'}{brief} on region {operator.region_id}: {operator.outcome.value}"


def outcome_message(operator: OperatorSnapshot) -> str:
    """What a finished operator means, in words."""
    what = operator.brief or operator.desc or "the operator"
    return {
        OperatorOutcome.SUCCESS: f"PD finished the operator on region {operator.region_id}: {what}.",
        OperatorOutcome.TIMEOUT: f"PD gave up: the operator on region {operator.region_id} timed out "
        f"before it finished ({what}).",
        OperatorOutcome.CANCEL: f"The operator on region {operator.region_id} was cancelled before it "
        f"finished ({what}); someone ran cancel-operator or PD stopped it.",
        OperatorOutcome.REPLACE: f"PD replaced the operator on region {operator.region_id} with another one "
        f"before it finished ({what}).",
    }.get(operator.outcome, f"The operator on region {operator.region_id} is {operator.outcome.value}.")
