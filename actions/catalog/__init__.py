"""The action catalog: the one list of what the bot can do to a cluster.

Every consumer reads it: the bot's parser (``parse_action``, ``spec_for``) and Edit modal
(``validate_params``, ``ActionSpec.params`` / ``raw_params``), help (``help_entries``), cards
(``describe``, ``pd_request``, ``pd_ctl``), preflight (``checks``), risk (``risk_inputs``), edits
(``subject``), the executor (``pd_request``, ``operator``, ``drains``), verification (``verify_fn``)
and Undo (``inverse``). Nothing else lists actions (tests/actions/test_catalog_only.py keeps it so).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from actions.catalog.cluster_actions import CLUSTER_ACTIONS
from actions.catalog.region_actions import REGION_ACTIONS
from actions.catalog.spec import ActionSpec, HelpEntry, Inverse, RiskInputs
from actions.errors import InvalidRequest
from actions.models import ActionType, ParamValue
from actions.params import InvalidParams, ParamSpec

__all__ = [
    "CATALOG",
    "ActionSpec",
    "HelpEntry",
    "InvalidParams",
    "Inverse",
    "ParamSpec",
    "RiskInputs",
    "help_entries",
    "parse_action",
    "spec_for",
    "validate_params",
]

CATALOG: Mapping[ActionType, ActionSpec] = {spec.action: spec for spec in (*REGION_ACTIONS, *CLUSTER_ACTIONS)}

_BY_WORD: Mapping[str, ActionSpec] = {
    word: spec for spec in CATALOG.values() for word in (*spec.words, spec.action.value)
}


def spec_for(word: str) -> ActionSpec:
    """The spec for what someone typed (``evict-leader`` and ``evict-leader-scheduler`` both work)."""
    name = word.strip().lower()
    spec = _BY_WORD.get(name)
    if spec is not None:
        return spec
    primary = [s.word for s in CATALOG.values()]
    close = difflib.get_close_matches(name, list(_BY_WORD), n=1, cutoff=0.6)
    hint = f" Did you mean {_BY_WORD[close[0]].word}?" if close else ""
    raise InvalidRequest(
        f"Unknown action '{word.strip()}'.{hint} Known actions: {', '.join(primary)}.",
        usage=_BY_WORD[close[0]].usage() if close else None,
    )


def parse_action(words: Sequence[str]) -> tuple[ActionType, dict[str, ParamValue]]:
    """``["transfer-leader", "12", "3"]`` → ``(TRANSFER_LEADER, {"region_id": 12, "to_store_id": 3})``.

    Raises ``InvalidRequest`` (``InvalidParams`` when fields are wrong) with the usage line attached.
    """
    if not words:
        raise InvalidRequest("Name an action, e.g. transfer-leader 12 3. /tikv help lists them all.")
    spec = spec_for(words[0])
    return spec.action, spec.parse_words(list(words[1:]))


def validate_params(action: ActionType, raw: Mapping[str, str]) -> dict[str, ParamValue]:
    """Parse the Edit modal's fields (field -> text); ``InvalidParams`` maps each bad field to a message."""
    return CATALOG[action].validate(raw)


def help_entries() -> tuple[HelpEntry, ...]:
    """One entry per action, in catalog order."""
    return tuple(
        HelpEntry(
            action=spec.action,
            usage=spec.usage(),
            summary=spec.summary,
            example=spec.example,
            tier=spec.tier,
            aliases=spec.words[1:],
        )
        for spec in CATALOG.values()
    )
