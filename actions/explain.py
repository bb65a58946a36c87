"""PD's refusals and outages, rewritten for the person who clicked Approve.

PD's error texts are stable substrings (docs/pd.md, "Refusals PD makes…"), often behind an RFC
code such as ``[PD:region:ErrRegionNotFound]``. Each known text gets a sentence saying what is wrong
and what to do instead; unknown texts are shown as PD wrote them, without the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from actions.errors import ClusterError, ClusterRejected
from actions.models import ParamValue

_RFC_CODE = re.compile(r"\[PD:[^\]]*\]")

Params = Mapping[str, ParamValue]


def _region(params: Params) -> str:
    return str(params.get("region_id", params.get("source_region_id", "?")))


_HINTS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], Params], str]], ...] = (
    (
        re.compile(r"region has no voter in store (\d+)"),
        lambda m, p: (
            f"region {_region(p)} has no voter on store {m[1]} — "
            "pick a store that holds a voter of this region"
        ),
    ),
    (
        re.compile(r"region has no peer in store (\d+)"),
        lambda m, p: (
            f"region {_region(p)} has no peer on store {m[1]} — pick a store that holds a peer of it"
        ),
    ),
    (
        re.compile(r"region already has peer in store (\d+)"),
        lambda m, p: f"region {_region(p)} already has a peer on store {m[1]} — pick another store",
    ),
    (
        re.compile(r"region (\d+) has abnormal peer"),
        lambda m, p: (
            f"region {m[1]} has down or pending peers — it must be healthy and fully replicated first"
        ),
    ),
    (
        re.compile(r"region (\d+) not found"),
        lambda m, p: f"region {m[1]} does not exist (it may have been split or merged) — look it up again",
    ),
    (
        re.compile(r"region (\d+) is a hot region"),
        lambda m, p: f"region {m[1]} is hot right now, so PD will not scatter it — try again later",
    ),
    (
        re.compile(r"store (\d+) not found"),
        lambda m, p: f"store {m[1]} does not exist — check the store id with /tikv status",
    ),
    (
        re.compile(r"store (\d+) has been (?:removed|physically destroyed)"),
        lambda m, p: f"store {m[1]} has been removed from the cluster — pick another store",
    ),
    (
        re.compile(r"store (\d+) is unhealthy"),
        lambda m, p: f"store {m[1]} is unhealthy (no heartbeat for 10 minutes) — pick a healthy store",
    ),
    (
        re.compile(
            r"can not remove store (\d+) since the number of up stores would be (\d+) while need (\d+)"
        ),
        lambda m, p: (
            f"store {m[1]} cannot go offline: only {m[2]} Up stores would remain and "
            f"{m[3]} are needed for the configured replicas"
        ),
    ),
    (
        re.compile(r"failed to add operator, maybe already have one"),
        lambda m, p: (
            f"region {_region(p)} already has an operator created by someone — "
            f"wait for it to finish, or cancel it with cancel-operator {_region(p)}"
        ),
    ),
    (
        re.compile(r"no operator step is built"),
        lambda m, p: (
            f"nothing to do: store {p.get('to_store_id', '?')} is already the leader of region {_region(p)}"
        ),
    ),
    (
        re.compile(r"target leader is not allowed"),
        lambda m, p: (
            f"store {p.get('to_store_id', '?')} does not accept leaders now (evicted, down or "
            "excluded by a label rule) — pick another store"
        ),
    ),
    (
        re.compile(r"two regions are not adjacent"),
        lambda m, p: "the two regions are not neighbours — only adjacent regions can merge",
    ),
    (
        re.compile(r"cannot split region which is in joint state"),
        lambda m, p: f"region {_region(p)} is in the middle of a membership change — try again in a minute",
    ),
    (
        re.compile(r"split key (\S+) is not in hex format"),
        lambda m, p: f"the split key {m[1]} is not hex — write keys as hex, e.g. 7480000000000000FF",
    ),
    (
        re.compile(r"operator not found"),
        lambda m, p: f"region {_region(p)} has no running operator to cancel",
    ),
    (
        re.compile(r"scheduler existed"),
        lambda m, p: "that scheduler is already running",
    ),
    (
        re.compile(r"scheduler not found"),
        lambda m, p: "no scheduler by that name is running — see /tikv status for the list",
    ),
    (
        re.compile(r"config item (\S+) not found"),
        lambda m, p: f"PD has no config item {m[1]} — check the key's spelling",
    ),
    (
        re.compile(r"invalid rate"),
        lambda m, p: "the rate must be larger than 0",
    ),
)


def pd_text(message: str) -> str:
    """PD's message without its RFC code, quotes and trailing newline."""
    return _RFC_CODE.sub("", message).strip().strip('"').strip()


def explain_rejection(error: ClusterRejected, params: Params) -> str:
    """``PD refused: <what is wrong — what to do>`` for a refusal of a request with ``params``."""
    text = pd_text(str(error))
    for pattern, hint in _HINTS:
        match = pattern.search(text)
        if match:
            return f"PD refused: {hint(match, params)}."
    status = f" (HTTP {error.status})" if error.status else ""
    return f"PD refused{status}: {text or 'no reason given'}."


def explain_unavailable(error: ClusterError, *, creates_operator: bool) -> str:
    """What an outage means for a write: in doubt (maybe sent) or certainly not sent."""
    if error.maybe_sent:
        check = "the operator status" if creates_operator else "what PD did"
        return f"PD did not answer; the request may have reached PD. The bot will check {check}."
    return f"PD unreachable, nothing was sent ({pd_text(str(error)) or 'no answer'})."
