"""PD's refusals and outages, rewritten for the person who clicked Approve.

PD's error texts are stable substrings (docs/pd.md, "Refusals PD makes…"), often behind an RFC
code such as ``[PD:region:ErrRegionNotFound]``. The PD adapter reads each known text once into a
typed ``Refusal`` (``pd.errors``); here each reason gets a sentence saying what is wrong and what to do
instead. A refusal without a known reason is shown as PD wrote it, without the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from actions.errors import ClusterError, ClusterRejected, RefusalReason
from actions.models import ParamValue

_RFC_CODE = re.compile(r"\[PD:[^\]]*\]")

Params = Mapping[str, ParamValue]
Args = tuple[str, ...]


def _region(params: Params) -> str:
    return str(params.get("region_id", params.get("source_region_id", "?")))


def _to_store(params: Params) -> str:
    return str(params.get("to_store_id", "?"))


# Each reason's sentence, from what PD named (``args``) and the request's parameters.
_SENTENCES: Mapping[RefusalReason, Callable[[Args, Params], str]] = {
    RefusalReason.NO_VOTER_ON_STORE: lambda a, p: (
        f"region {_region(p)} has no voter on store {a[0]} — pick a store that holds a voter of this region"
    ),
    RefusalReason.NO_PEER_ON_STORE: lambda a, p: (
        f"region {_region(p)} has no peer on store {a[0]} — pick a store that holds a peer of it"
    ),
    RefusalReason.PEER_ALREADY_ON_STORE: lambda a, p: (
        f"region {_region(p)} already has a peer on store {a[0]} — pick another store"
    ),
    RefusalReason.ABNORMAL_PEER: lambda a, p: (
        f"region {a[0]} has down or pending peers — it must be healthy and fully replicated first"
    ),
    RefusalReason.REGION_NOT_FOUND: lambda a, p: (
        f"region {a[0]} does not exist (it may have been split or merged) — look it up again"
    ),
    RefusalReason.HOT_REGION: lambda a, p: (
        f"region {a[0]} is hot right now, so PD will not scatter it — try again later"
    ),
    RefusalReason.STORE_NOT_FOUND: lambda a, p: (
        f"store {a[0]} does not exist — check the store id with /tikv status"
    ),
    RefusalReason.STORE_REMOVED: lambda a, p: (
        f"store {a[0]} has been removed from the cluster — pick another store"
    ),
    RefusalReason.STORE_UNHEALTHY: lambda a, p: (
        f"store {a[0]} is unhealthy (no heartbeat for 10 minutes) — pick a healthy store"
    ),
    RefusalReason.TOO_FEW_UP_STORES: lambda a, p: (
        f"store {a[0]} cannot go offline: only {a[1]} Up stores would remain and "
        f"{a[2]} are needed for the configured replicas"
    ),
    RefusalReason.OPERATOR_EXISTS: lambda a, p: (
        f"region {_region(p)} already has an operator created by someone — "
        f"wait for it to finish, or cancel it with cancel-operator {_region(p)}"
    ),
    RefusalReason.NOTHING_TO_DO: lambda a, p: (
        f"nothing to do: store {_to_store(p)} is already the leader of region {_region(p)}"
    ),
    RefusalReason.LEADER_NOT_ALLOWED: lambda a, p: (
        f"store {_to_store(p)} does not accept leaders now (evicted, down or "
        "excluded by a label rule) — pick another store"
    ),
    RefusalReason.NOT_ADJACENT: lambda a, p: (
        "the two regions are not neighbours — only adjacent regions can merge"
    ),
    RefusalReason.JOINT_STATE: lambda a, p: (
        f"region {_region(p)} is in the middle of a membership change — try again in a minute"
    ),
    RefusalReason.SPLIT_KEY_NOT_HEX: lambda a, p: (
        f"the split key {a[0]} is not hex — write keys as hex, e.g. 7480000000000000FF"
    ),
    RefusalReason.OPERATOR_NOT_FOUND: lambda a, p: f"region {_region(p)} has no running operator to cancel",
    RefusalReason.SCHEDULER_EXISTS: lambda a, p: "that scheduler is already running",
    RefusalReason.SCHEDULER_NOT_FOUND: lambda a, p: (
        "no scheduler by that name is running — see /tikv status for the list"
    ),
    RefusalReason.CONFIG_ITEM_NOT_FOUND: lambda a, p: (
        f"PD has no config item {a[0]} — check the key's spelling"
    ),
    RefusalReason.INVALID_RATE: lambda a, p: "the rate must be larger than 0",
}


def pd_text(message: str) -> str:
    """PD's message without its RFC code, quotes and trailing newline."""
    return _RFC_CODE.sub("", message).strip().strip('"').strip()


def explain_rejection(error: ClusterRejected, params: Params) -> str:
    """``PD refused: <what is wrong — what to do>`` for a refusal of a request with ``params``."""
    if error.refusal is not None:
        return f"PD refused: {_SENTENCES[error.refusal.reason](error.refusal.args, params)}."
    text = pd_text(str(error))
    status = f" (HTTP {error.status})" if error.status else ""
    return f"PD refused{status}: {text or 'no reason given'}."


def explain_unavailable(error: ClusterError, *, creates_operator: bool) -> str:
    """What an outage means for a write: in doubt (maybe sent) or certainly not sent."""
    if error.maybe_sent:
        check = "the operator status" if creates_operator else "what PD did"
        return f"PD did not answer; the request may have reached PD. The bot will check {check}."
    return f"PD unreachable, nothing was sent ({pd_text(str(error)) or 'no answer'})."
