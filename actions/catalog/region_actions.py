"""Region actions: the admin operators PD creates through ``POST /pd/api/v1/operators``, and cancelling one.

Field names are PD's own (docs/pd.md): transfer-leader takes ``to_store_id``; add-peer and
remove-peer take ``store_id``; split keys are upper-case hex.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actions import verifiers
from actions.catalog import fields
from actions.catalog.spec import ActionSpec, Inverse, RiskInputs, arity_error
from actions.checks import regions, stores
from actions.models import ActionType, ParamValue, PDRequest, Tier
from actions.params import Params, int_param, list_param, str_param

OPERATORS = "/pd/api/v1/operators"

_HEALTH = stores.pd_health()
_REGION = regions.region_exists()
_NO_OPERATOR = regions.no_running_operator()


def _operator(name: str, request_name: str, **fields_: ParamValue) -> PDRequest:
    return PDRequest(name=request_name, method="POST", path=OPERATORS, body={"name": name, **fields_})


def _region(params: Params) -> int:
    return int_param(params, "region_id")


# --- transfer-leader ------------------------------------------------------------------------------


def _transfer_leader_back(params: Params, facts: Mapping[str, Any]) -> Inverse | None:
    region = facts.get("region")
    old = region.get("leader_store_id") if isinstance(region, Mapping) else None
    target = int_param(params, "to_store_id")
    if not isinstance(old, int) or old == target:
        return None
    return ActionType.TRANSFER_LEADER, {"region_id": _region(params), "to_store_id": old}


TRANSFER_LEADER = ActionSpec(
    action=ActionType.TRANSFER_LEADER,
    words=("transfer-leader",),
    summary="Move a region's leader to another store that holds a voter of it.",
    params=(fields.REGION, fields.TO_STORE),
    tier=Tier.REVERSIBLE,
    example="transfer-leader 12 3",
    operator="admin-transfer-leader",
    subject=("region_id",),
    verify_fn=verifiers.leader_moved,
    checks=(
        _HEALTH,
        _REGION,
        stores.target_store("to_store_id", takes_leaders=True),
        regions.leader_target(),
        _NO_OPERATOR,
    ),
    describe_fn=lambda p: f"Move the leader of region {_region(p)} to store {int_param(p, 'to_store_id')}",
    request_fn=lambda p: _operator(
        "transfer-leader", "TransferLeader", region_id=_region(p), to_store_id=int_param(p, "to_store_id")
    ),
    pd_ctl_fn=lambda p: f"pd-ctl operator add transfer-leader {_region(p)} {int_param(p, 'to_store_id')}",
    inverse_fn=_transfer_leader_back,
)


# --- transfer-peer --------------------------------------------------------------------------------


def _different_stores(values: dict[str, ParamValue]) -> dict[str, str]:
    if values.get("from_store_id") == values.get("to_store_id"):
        return {"to_store_id": "the target store must differ from the source store"}
    return {}


TRANSFER_PEER = ActionSpec(
    action=ActionType.TRANSFER_PEER,
    words=("transfer-peer",),
    summary="Move one peer of a region from one store to another.",
    params=(fields.REGION, fields.FROM_STORE, fields.TO_STORE_OF_PEER),
    tier=Tier.STRUCTURAL,
    example="transfer-peer 12 1 4",
    operator="admin-move-peer",
    subject=("region_id", "from_store_id"),
    verify_fn=verifiers.peer_moved,
    risk_inputs=RiskInputs.STORE,
    checks=(
        _HEALTH,
        _REGION,
        regions.peer_present("from_store_id"),
        regions.leader_successor("from_store_id", joining="to_store_id"),
        stores.target_store("to_store_id"),
        regions.peer_absent("to_store_id"),
        regions.target_space("to_store_id"),
        regions.isolation_kept("to_store_id", leaving="from_store_id"),
        regions.region_healthy(leaving="from_store_id"),
        _NO_OPERATOR,
    ),
    describe_fn=lambda p: (
        f"Move region {_region(p)}'s peer from store {int_param(p, 'from_store_id')} "
        f"to store {int_param(p, 'to_store_id')}"
    ),
    request_fn=lambda p: _operator(
        "transfer-peer",
        "TransferPeer",
        region_id=_region(p),
        from_store_id=int_param(p, "from_store_id"),
        to_store_id=int_param(p, "to_store_id"),
    ),
    pd_ctl_fn=lambda p: (
        f"pd-ctl operator add transfer-peer {_region(p)} {int_param(p, 'from_store_id')} "
        f"{int_param(p, 'to_store_id')}"
    ),
    inverse_fn=lambda p, facts: (
        ActionType.TRANSFER_PEER,
        {
            "region_id": _region(p),
            "from_store_id": int_param(p, "to_store_id"),
            "to_store_id": int_param(p, "from_store_id"),
        },
    ),
    refine=_different_stores,
)


# --- add-peer / remove-peer -----------------------------------------------------------------------


def _region_and_store(params: Params) -> dict[str, ParamValue]:
    return {"region_id": _region(params), "store_id": int_param(params, "store_id")}


ADD_PEER = ActionSpec(
    action=ActionType.ADD_PEER,
    words=("add-peer",),
    summary="Add a voter of a region on a store that has none (PD adds a learner, then promotes it).",
    params=(fields.REGION, fields.STORE),
    tier=Tier.STRUCTURAL,
    example="add-peer 12 5",
    operator="admin-add-peer",
    subject=("region_id",),
    verify_fn=verifiers.peer_added,
    checks=(
        _HEALTH,
        _REGION,
        stores.target_store("store_id"),
        regions.peer_absent("store_id"),
        regions.target_space("store_id"),
        regions.isolation_kept("store_id"),
        regions.replica_count(),
        regions.region_healthy(strict=False),
        _NO_OPERATOR,
    ),
    describe_fn=lambda p: f"Add a peer of region {_region(p)} on store {int_param(p, 'store_id')}",
    request_fn=lambda p: _operator("add-peer", "AddPeer", **_region_and_store(p)),
    pd_ctl_fn=lambda p: f"pd-ctl operator add add-peer {_region(p)} {int_param(p, 'store_id')}",
    inverse_fn=lambda p, facts: (ActionType.REMOVE_PEER, _region_and_store(p)),
)

REMOVE_PEER = ActionSpec(
    action=ActionType.REMOVE_PEER,
    words=("remove-peer",),
    summary="Remove a region's peer from a store (PD moves the leader away first if it is there).",
    params=(fields.REGION, fields.STORE),
    tier=Tier.STRUCTURAL,
    example="remove-peer 12 5",
    operator="admin-remove-peer",
    subject=("region_id", "store_id"),
    verify_fn=verifiers.peer_removed,
    risk_inputs=RiskInputs.STORE,
    checks=(
        _HEALTH,
        _REGION,
        regions.peer_present("store_id"),
        regions.leader_successor("store_id"),
        regions.replicas_after_removal(),
        regions.region_healthy(leaving="store_id"),
        _NO_OPERATOR,
    ),
    describe_fn=lambda p: f"Remove the peer of region {_region(p)} from store {int_param(p, 'store_id')}",
    request_fn=lambda p: _operator("remove-peer", "RemovePeer", **_region_and_store(p)),
    pd_ctl_fn=lambda p: f"pd-ctl operator add remove-peer {_region(p)} {int_param(p, 'store_id')}",
    inverse_fn=lambda p, facts: (ActionType.ADD_PEER, _region_and_store(p)),
)


# --- split-region ---------------------------------------------------------------------------------


def _split_words(spec: ActionSpec, args: Sequence[str]) -> dict[str, str]:
    """``R``, ``R scan``, ``R approximate`` or ``R usekey KEY…``."""
    if not args or (len(args) > 2 and args[1].lower() != "usekey"):
        raise arity_error(spec, args)
    raw = {"region_id": args[0]}
    if len(args) > 1:
        raw["policy"] = args[1]
    if len(args) > 2:
        raw["keys"] = " ".join(args[2:])
    return raw


def _split_refine(values: dict[str, ParamValue]) -> dict[str, str]:
    keys = values.get("keys")
    if values.get("policy") == "usekey":
        if not keys:
            return {
                "keys": "usekey needs at least one split key, e.g. split-region 12 usekey 7480000000000000FF"
            }
    elif keys:
        return {"keys": "split keys are only used with the usekey policy"}
    if keys == []:
        del values["keys"]
    return {}


def _split_body(params: Params) -> dict[str, ParamValue]:
    policy = str_param(params, "policy", "scan")
    body: dict[str, ParamValue] = {"name": "split-region", "region_id": _region(params), "policy": policy}
    if policy == "usekey":
        body["keys"] = list_param(params, "keys")
    return body


def _describe_split(params: Params) -> str:
    policy = str_param(params, "policy", "scan")
    if policy == "usekey":
        return (
            f"Split region {_region(params)} at key{'s' * (len(list_param(params, 'keys')) > 1)} "
            + ", ".join(list_param(params, "keys"))
        )
    how = "the middle key found by scanning it" if policy == "scan" else "an estimated middle key"
    return f"Split region {_region(params)} in two at {how}"


def _split_pd_ctl(params: Params) -> str:
    policy = str_param(params, "policy", "scan")
    line = f"pd-ctl operator add split-region {_region(params)} --policy={policy}"
    return line + (f" --keys={','.join(list_param(params, 'keys'))}" if policy == "usekey" else "")


SPLIT_REGION = ActionSpec(
    action=ActionType.SPLIT_REGION,
    words=("split-region",),
    summary="Split a region in two (at its middle, or at the hex keys given with usekey).",
    params=(fields.REGION, fields.POLICY, fields.KEYS),
    tier=Tier.STRUCTURAL,
    example="split-region 12 usekey 7480000000000000FF",
    operator="admin-split-region",
    subject=("region_id",),
    verify_fn=verifiers.region_split,
    checks=(_HEALTH, _REGION, regions.region_healthy(), regions.split_keys_in_range(), _NO_OPERATOR),
    describe_fn=_describe_split,
    request_fn=lambda p: PDRequest(name="SplitRegion", method="POST", path=OPERATORS, body=_split_body(p)),
    pd_ctl_fn=_split_pd_ctl,
    refine=_split_refine,
    positional=_split_words,
    usage_text="split-region REGION [scan|approximate|usekey KEY…]",
)


# --- merge-region ---------------------------------------------------------------------------------


def _different_regions(values: dict[str, ParamValue]) -> dict[str, str]:
    if values.get("source_region_id") == values.get("target_region_id"):
        return {"target_region_id": "a region cannot merge with itself; name its neighbour"}
    return {}


MERGE_REGION = ActionSpec(
    action=ActionType.MERGE_REGION,
    words=("merge-region",),
    summary="Merge a region into its neighbour; the source region disappears.",
    params=(fields.SOURCE_REGION, fields.TARGET_REGION),
    tier=Tier.IRREVERSIBLE,
    example="merge-region 10 11",
    operator="admin-merge-region",
    # A merge creates one operator per region. The source's ends CANCEL ("region not found") once the
    # source has been merged away; the target's passive step ends SUCCESS when the target's range grows,
    # so the target is the one to follow.
    operator_region="target_region_id",
    subject=("source_region_id", "target_region_id"),
    verify_fn=verifiers.regions_merged,
    checks=(
        _HEALTH,
        regions.region_exists("source_region_id", fact="source_region"),
        regions.region_exists("target_region_id", fact="target_region"),
        regions.regions_adjacent(),
        regions.fully_replicated("source_region_id", name="source region replicated"),
        regions.fully_replicated("target_region_id", name="target region replicated"),
        regions.region_healthy("source_region_id", name="source region healthy"),
        regions.region_healthy("target_region_id", name="target region healthy"),
        regions.no_running_operator("source_region_id", name="no operator on source"),
        regions.no_running_operator("target_region_id", name="no operator on target"),
    ),
    describe_fn=lambda p: (
        f"Merge region {int_param(p, 'source_region_id')} into region {int_param(p, 'target_region_id')}"
    ),
    request_fn=lambda p: _operator(
        "merge-region",
        "MergeRegion",
        source_region_id=int_param(p, "source_region_id"),
        target_region_id=int_param(p, "target_region_id"),
    ),
    pd_ctl_fn=lambda p: (
        f"pd-ctl operator add merge-region {int_param(p, 'source_region_id')} "
        f"{int_param(p, 'target_region_id')}"
    ),
    refine=_different_regions,
)


# --- scatter-region / cancel-operator -------------------------------------------------------------

SCATTER_REGION = ActionSpec(
    action=ActionType.SCATTER_REGION,
    words=("scatter-region",),
    summary="Let PD spread a region's peers and leader across stores.",
    params=(fields.REGION,),
    tier=Tier.REVERSIBLE,
    example="scatter-region 12",
    operator="scatter-region",
    subject=("region_id",),
    verify_fn=verifiers.region_scattered,
    checks=(_HEALTH, _REGION, regions.region_healthy(strict=False), regions.not_hot(), _NO_OPERATOR),
    describe_fn=lambda p: f"Scatter region {_region(p)}'s peers and leader across stores",
    request_fn=lambda p: _operator("scatter-region", "ScatterRegion", region_id=_region(p)),
    pd_ctl_fn=lambda p: f"pd-ctl operator add scatter-region {_region(p)}",
)

CANCEL_OPERATOR = ActionSpec(
    action=ActionType.CANCEL_OPERATOR,
    words=("cancel-operator",),
    summary="Cancel the operator running on a region.",
    params=(fields.REGION,),
    tier=Tier.REVERSIBLE,
    example="cancel-operator 12",
    subject=("region_id",),
    verify_fn=verifiers.operator_cancelled,
    checks=(_HEALTH, regions.operator_running()),
    describe_fn=lambda p: f"Cancel the operator running on region {_region(p)}",
    request_fn=lambda p: PDRequest(name="CancelOperator", method="DELETE", path=f"{OPERATORS}/{_region(p)}"),
    pd_ctl_fn=lambda p: f"pd-ctl operator remove {_region(p)}",
)

REGION_ACTIONS = (
    TRANSFER_LEADER,
    TRANSFER_PEER,
    ADD_PEER,
    REMOVE_PEER,
    SPLIT_REGION,
    MERGE_REGION,
    SCATTER_REGION,
    CANCEL_OPERATOR,
)
