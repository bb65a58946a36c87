"""Operator endpoints (``server/api/operator.go`` and ``HandleOperatorCreation``).

Field-shape problems are 400 with PD's literal texts; everything PD checks after parsing is
500 with the model's ``PDFailure`` text (even "region not found").
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pd.simulator.context import ApiContext
from pd.simulator.errors import ConnectionDropped, JSONError, PDFailure, pd_text
from pd.simulator.gofmt import go_quote
from pd.simulator.http_util import (
    Route,
    as_uint64,
    is_number,
    ok_message,
    path_uint_string,
    rd_json,
    read_object,
)

CREATED = "The operator is created."


def _number(body: dict[str, Any], key: str, missing: str) -> int:
    value = body.get(key)
    if not is_number(value):
        raise JSONError(400, missing)
    return as_uint64(value)


def _store_roles(ids: Any, roles: Any) -> dict[int, str] | None:
    """``parseStoreIDsAndPeerRole``: None when ``to_store_ids`` is not an array of numbers."""
    if not isinstance(ids, list):
        return None
    store_ids: list[int] = []
    out: dict[int, str] = {}
    for item in ids:
        if not is_number(item):
            return None
        store_ids.append(as_uint64(item))
        out[as_uint64(item)] = ""
    if isinstance(roles, list) and len(roles) == len(store_ids):
        for store_id, role in zip(store_ids, roles, strict=True):
            if isinstance(role, str):
                out[store_id] = role
    return out


def routes(ctx: ApiContext) -> list[Route]:
    """The routes of this module, bound to ``ctx``."""
    model = ctx.model
    ops = model.operators

    async def list_operators(request: web.Request) -> web.StreamResponse:
        kinds = request.query.getall("kind", None) if "kind" in request.query else None
        chosen = ops.select(kinds)
        if "object" in request.query:
            return rd_json([op.to_object() for op in chosen])
        if kinds is not None and not chosen:
            return rd_json(None)  # a nil slice: PD prints null
        return rd_json([op.text(model) for op in chosen])

    async def create(request: web.Request) -> web.StreamResponse:
        body = await read_object(request)
        name = body.get("name")
        if not isinstance(name, str):
            raise JSONError(400, "missing operator name")
        try:
            result = _create(name, body)
        except PDFailure as exc:
            raise JSONError(500, exc.text) from None
        return rd_json(result)

    def _create(name: str, body: dict[str, Any]) -> Any:
        if name == "transfer-leader":
            region_id = _number(body, "region_id", "missing region id")
            store_id = _number(body, "to_store_id", "missing store id to transfer leader to")
            ops.transfer_leader(region_id, store_id)
        elif name == "transfer-region":
            region_id = _number(body, "region_id", "missing region id")
            roles = _store_roles(body.get("to_store_ids"), body.get("peer_roles"))
            if roles is None:
                raise JSONError(400, "invalid store ids to transfer region to")
            if not roles:
                raise JSONError(400, "missing store ids to transfer region to")
            ops.transfer_region(region_id, roles)
        elif name == "transfer-peer":
            region_id = _number(body, "region_id", "missing region id")
            from_id = _number(body, "from_store_id", "invalid store id to transfer peer from")
            to_id = _number(body, "to_store_id", "invalid store id to transfer peer to")
            ops.transfer_peer(region_id, from_id, to_id)
        elif name in ("add-peer", "add-learner"):
            region_id = _number(body, "region_id", "missing region id")
            store_id = _number(body, "store_id", "invalid store id to transfer peer to")
            if name == "add-peer":
                ops.add_peer(region_id, store_id)
            else:
                ops.add_learner(region_id, store_id)
        elif name == "remove-peer":
            region_id = _number(body, "region_id", "missing region id")
            store_id = _number(body, "store_id", "invalid store id to transfer peer to")
            ops.remove_peer(region_id, store_id)
        elif name == "merge-region":
            source = _number(body, "source_region_id", "missing region id")
            target = _number(body, "target_region_id", "invalid target region id to merge to")
            ops.merge_region(source, target)
        elif name == "split-region":
            region_id = _number(body, "region_id", "missing region id")
            policy = body.get("policy")
            if not isinstance(policy, str):
                raise JSONError(400, "missing split policy")
            keys: list[str] = []
            if "keys" in body:
                raw = body["keys"]
                if not isinstance(raw, list):
                    # PD does an unchecked type assertion here: the handler panics.
                    raise ConnectionDropped("split-region keys is not an array")
                for key in raw:
                    if not isinstance(key, str):
                        raise JSONError(400, "bad format keys")
                    keys.append(key)
            ops.split_region(region_id, policy, keys)
        elif name == "scatter-region":
            region_id = _number(body, "region_id", "missing region id")
            group = body.get("group")
            ops.scatter_region(region_id, group if isinstance(group, str) else "")
        elif name == "scatter-regions":
            raw_ids = body.get("region_ids")
            if not isinstance(raw_ids, list) or not all(is_number(i) for i in raw_ids):
                raise JSONError(400, "region_ids is invalid")
            start = body.get("start_key")
            end = body.get("end_key")
            percentage, error = ops.scatter_regions(
                [as_uint64(i) for i in raw_ids],
                start if isinstance(start, str) else "",
                end if isinstance(end, str) else "",
            )
            return {"processed-percentage": percentage, "error": error}
        else:
            raise JSONError(400, "unknown operator")
        return CREATED

    async def cancel_all(_: web.Request) -> web.StreamResponse:
        ops.cancel_all()
        return ok_message("All pending operators are canceled.")

    async def records(request: web.Request) -> web.StreamResponse:
        since = 0.0
        if "from" in request.query:
            text = request.query.getall("from")[0]
            body = text[1:] if text[:1] in "+-" else text
            if not body.isascii() or not body.isdigit():
                raise JSONError(400, f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
            since = float(int(text))
        found = ops.finished_since(since)
        if not found:
            raise JSONError(500, pd_text("ErrOperatorNotFound", "operator not found"))
        return rd_json([op.record_text(model) for op in found])

    async def status(request: web.Request) -> web.StreamResponse:
        region_id = path_uint_string(request.match_info["region_id"])
        op = ops.status_of(region_id)
        if op is None:
            raise JSONError(500, pd_text("ErrOperatorNotFound", "operator not found"))
        return rd_json(op.status_text(model))

    async def cancel(request: web.Request) -> web.StreamResponse:
        region_id = path_uint_string(request.match_info["region_id"])
        try:
            ops.cancel(region_id)
        except PDFailure as exc:
            raise JSONError(500, exc.text) from None
        return ok_message("The pending operator is canceled.")

    return [
        Route(("GET",), "/operators", list_operators),
        Route(("POST",), "/operators", create),
        Route(("DELETE",), "/operators", cancel_all),
        Route(("GET",), "/operators/records", records),
        Route(("GET",), "/operators/{region_id}", status),
        Route(("DELETE",), "/operators/{region_id}", cancel),
    ]
