"""Reading back the operator an action created: which region to ask about, and whether it is ours.

``GET /operators/{region}`` returns the running operator or the last one that finished in the past ten
minutes, whoever created it; a scheduler's operator on the same region must not be taken for ours.
PD names admin operators ``admin-<kind>`` (docs/pd.md, "Reading an operator: text formats"); each
catalog entry says which name its operator gets (``ActionSpec.operator``).
"""

from __future__ import annotations

from actions.catalog import CATALOG
from actions.models import ActionRequest, OperatorOutcome
from actions.ports import OperatorSnapshot

FINISHED = frozenset(
    {OperatorOutcome.SUCCESS, OperatorOutcome.TIMEOUT, OperatorOutcome.CANCEL, OperatorOutcome.REPLACE}
)


def operator_region(request: ActionRequest) -> int | None:
    """The region whose operator reports this action's outcome (``ActionSpec.operator_region``)."""
    value = request.params.get(CATALOG[request.action].operator_region)
    return value if isinstance(value, int) else None


def is_ours(operator: OperatorSnapshot, request: ActionRequest) -> bool:
    """Whether ``operator`` is the kind this action creates (not a scheduler's or checker's)."""
    expected = CATALOG[request.action].operator
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
