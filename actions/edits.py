"""What an edit may change: a proposal's parameters, never what it is about.

Each action has a *subject* — the region, store, scheduler or config key it acts on — named by its
catalog entry's ``subject`` parameters. An edit that changes the subject (or the action) is a different
proposal and needs a new one, so it is refused field by field. ``diff_params`` is the "to_store 4 → 3"
the card and the audit show for each revision (docs/identity-and-edits.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from actions.catalog import CATALOG
from actions.models import ActionType, ParamChange, ParamValue

SUBJECT_CHANGED = (
    "An edit changes parameters, not what the proposal is about: {name} stays {before}. "
    "Propose {action} again for {after}."
)


def _shown(value: ParamValue | None) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def subject_changes(
    action: ActionType, before: Mapping[str, ParamValue], after: Mapping[str, ParamValue]
) -> dict[str, str]:
    """``{parameter: why it cannot change}`` for each subject parameter ``after`` changes; {} if none."""
    refused: dict[str, str] = {}
    for name in CATALOG[action].subject:
        old, new = before.get(name), after.get(name)
        if old != new:
            refused[name] = SUBJECT_CHANGED.format(
                name=name, before=_shown(old), action=action.value, after=_shown(new)
            )
    return refused


def diff_params(before: Mapping[str, ParamValue], after: Mapping[str, ParamValue]) -> tuple[ParamChange, ...]:
    """The parameters whose value differs, in the order ``before`` then ``after`` names them."""
    names = list(dict.fromkeys([*before, *after]))
    return tuple(
        ParamChange(name=n, before=before.get(n), after=after.get(n))
        for n in names
        if before.get(n) != after.get(n)
    )


def describe_change(change: ParamChange) -> str:
    """``to_store_id 4 → 3``."""
    return f"{change.name} {_shown(change.before)} → {_shown(change.after)}"
