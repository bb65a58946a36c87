"""Store endpoints (``server/api/store.go``)."""

from __future__ import annotations

import sys

from aiohttp import web

from pd.simulator.context import ApiContext
from pd.simulator.errors import InputError, JSONError, PDFailure, pd_text
from pd.simulator.gofmt import go_quote
from pd.simulator.http_util import (
    Route,
    is_number,
    ok_message,
    parse_uint,
    parse_uint_error,
    path_uint_errcode,
    rd_json,
    read_body,
    read_object,
)
from pd.simulator.topology import OFFLINE, STATE_NAMES, TOMBSTONE, Store
from pd.simulator.views import store_info, stores_info

LIMIT_TYPES = ("add-peer", "remove-peer")


def _store_error(exc: PDFailure) -> JSONError:
    """``storeHandler.responseStoreErr``: not found 404, removed 410, anything else 400."""
    status = {"ErrStoreNotFound": 404, "ErrStoreRemoved": 410}.get(exc.code, 400)
    return JSONError(status, exc.text)


def _limit_types(body: dict[str, object]) -> list[str]:
    """``getStoreLimitType``: no ``type`` means both."""
    if "type" not in body:
        return list(LIMIT_TYPES)
    kind = body["type"]
    if not isinstance(kind, str):
        raise JSONError(400, "bad format type")
    if kind == "":
        return ["add-peer"]
    if kind not in LIMIT_TYPES:
        raise JSONError(400, "unknown type")
    return [kind]


def _rate(body: dict[str, object]) -> float:
    if "rate" not in body:
        raise JSONError(400, "rate unset")
    rate = body["rate"]
    if not is_number(rate) or float(rate) <= 0:  # type: ignore[arg-type]
        raise JSONError(400, "invalid rate which should be larger than 0")
    return float(rate)  # type: ignore[arg-type]


def routes(ctx: ApiContext) -> list[Route]:
    """The routes of this module, bound to ``ctx``."""
    model = ctx.model

    def ordered(stores: list[Store]) -> list[Store]:
        return sorted(stores, key=lambda s: s.id)

    async def get_stores(request: web.Request) -> web.StreamResponse:
        states = request.query.getall("state", [])
        accepted: set[int] = set()
        for text in states:
            body = text[1:] if text[:1] in "+-" else text
            if not body.isascii() or not body.isdigit():
                raise JSONError(500, f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
            state = int(text)
            if state not in (0, 1, 2):
                raise JSONError(500, f"unknown StoreState: {state}")
            accepted.add(state)
        if not states:
            accepted = {0, 1}
        stores = [s for s in model.stores.values() if s.state in accepted]
        return rd_json(stores_info(model, ordered(stores)))

    async def check_stores(request: web.Request) -> web.StreamResponse:
        names = {n.lower() for n in (*STATE_NAMES, "Down", "Disconnected")}
        wanted: list[str] = []
        has_query = "state" in request.query
        for text in request.query.getall("state", []):
            name = text.lower()
            if name and name not in names:
                raise JSONError(400, "unknown StoreState: " + text)
            if name:
                wanted.append(name)
        stores = ordered(list(model.stores.values()))
        if has_query and wanted:
            stores = [s for s in stores if model.state_name(s).lower() in wanted]
        return rd_json(stores_info(model, stores))

    def existing(store_id: int) -> Store:
        store = model.stores.get(store_id)
        if store is None:
            raise JSONError(404, pd_text("ErrStoreNotFound", f"store {store_id} not found"))
        return store

    async def get_store(request: web.Request) -> web.StreamResponse:
        store_id = path_uint_errcode(request.match_info["id"])
        return rd_json(store_info(model, existing(store_id)))

    async def delete_store(request: web.Request) -> web.StreamResponse:
        store_id = path_uint_errcode(request.match_info["id"])
        try:
            model.offline_store(store_id, physically_destroyed="force" in request.query)
        except PDFailure as exc:
            raise _store_error(exc) from None
        return ok_message("The store is set as Offline.")

    async def set_state(request: web.Request) -> web.StreamResponse:
        store_id = path_uint_errcode(request.match_info["id"])
        state = request.query.get("state", "")
        try:
            if state.lower() == "up":
                model.up_store(store_id)
            elif state.lower() == "offline":
                model.offline_store(store_id)
            else:
                raise PDFailure(f"invalid state {state}")
        except PDFailure as exc:
            raise _store_error(exc) from None
        return ok_message("The store's state is updated.")

    async def set_label(request: web.Request) -> web.StreamResponse:
        store_id = path_uint_errcode(request.match_info["id"])
        body = await read_object(request)
        for value in body.values():
            if not isinstance(value, str):
                raise InputError(
                    "json: cannot unmarshal number into Go value of type string"
                    if is_number(value)
                    else "json: cannot unmarshal value into Go value of type string",
                    {},
                )
        if "engine" in body:
            raise InputError('label key "engine" is reserved', {})
        store = model.stores.get(store_id)
        if store is None:
            raise JSONError(500, f"[PD:cluster:ErrInvalidStoreID]invalid store id {store_id}, not found")
        labels = {} if "force" in request.query else store.label_map
        labels.update({k: str(v) for k, v in body.items()})
        model.set_store_labels(store_id, labels)
        return ok_message("The store's label is updated.")

    async def delete_label(request: web.Request) -> web.StreamResponse:
        store_id = path_uint_errcode(request.match_info["id"])
        key = await read_body(request)
        if not isinstance(key, str):
            raise InputError("json: cannot unmarshal value into Go value of type string", {})
        store = model.stores.get(store_id)
        if store is None:
            raise JSONError(500, f"[PD:cluster:ErrInvalidStoreID]invalid store id {store_id}, not found")
        labels = store.label_map
        if key not in labels:
            raise JSONError(500, f"the label key {key} does not exist")
        del labels[key]
        model.set_store_labels(store_id, labels)
        return ok_message(f"The label {key} is deleted for store {store_id}.")

    async def set_weight(request: web.Request) -> web.StreamResponse:
        store_id = path_uint_errcode(request.match_info["id"])
        body = await read_object(request)
        if "leader" not in body:
            raise JSONError(400, "leader weight unset")
        if "region" not in body:
            raise JSONError(400, "region weight unset")
        leader, region = body["leader"], body["region"]
        if not is_number(leader) or leader < 0:
            raise JSONError(400, "bad format leader weight")
        if not is_number(region) or region < 0:
            raise JSONError(400, "bad format region weight")
        if store_id not in model.stores:
            raise JSONError(500, pd_text("ErrStoreNotFound", f"store {store_id} not found"))
        model.set_store_weight(store_id, leader=float(leader), region=float(region))
        return ok_message("The store's weight is updated.")

    def check_limit_version(verb: str) -> None:
        version = model.config.schedule["store-limit-version"]
        if version != "v1":
            raise JSONError(400, f"current store limit version:{version} not support {verb} limit")

    async def set_limit(request: web.Request) -> web.StreamResponse:
        if request.query.get("ttlSecond", ""):
            raise JSONError(400, "ttlSecond is deprecated")
        check_limit_version("set")
        store_id = path_uint_errcode(request.match_info["id"])
        if store_id not in model.stores:
            raise JSONError(500, pd_text("ErrStoreNotFound", f"store {store_id} not found"))
        body = await read_object(request)
        rate = _rate(body)
        for kind in _limit_types(body):
            model.config.set_store_limit(store_id, kind, rate)
        return ok_message("The store's limit is updated.")

    async def get_limits(request: web.Request) -> web.StreamResponse:
        check_limit_version("get")
        include = request.query.get("include_tombstone", "")
        include_tombstone = False
        if include:
            parsed = _parse_bool(include)
            if parsed is None:
                raise JSONError(400, f"strconv.ParseBool: parsing {go_quote(include)}: invalid syntax")
            include_tombstone = parsed
        if include_tombstone:
            return rd_json(model.config.store_limit_json())
        alive = [s for s, store in model.stores.items() if store.state != TOMBSTONE]
        return rd_json(model.config.store_limit_json(alive))

    async def set_limits(request: web.Request) -> web.StreamResponse:
        if request.query.get("ttlSecond", ""):
            raise JSONError(400, "ttlSecond is deprecated")
        check_limit_version("get")
        body = await read_object(request)
        rate = _rate(body)
        kinds = _limit_types(body)
        if "labels" not in body:
            for kind in kinds:
                model.config.set_all_store_limits(kind, rate)
        else:
            labels = body["labels"]
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                raise InputError("invalid labels", {})
            matching = [
                s.id for s in model.stores.values() if all(s.label_map.get(k) == v for k, v in labels.items())
            ]
            for kind in kinds:
                model.config.set_all_store_limits(kind, rate, matching)
        return ok_message("Set store limit successfully.")

    async def labels(_: web.Request) -> web.StreamResponse:
        # server/api/label.go GetLabels: each distinct key+value (case-insensitive) once, in store
        # order, tombstones included; no labels at all encode as Go's nil slice, null.
        seen: set[str] = set()
        found: list[dict[str, str]] = []
        for store in sorted(model.stores.values(), key=lambda s: s.id):
            for key, value in store.labels:
                mark = (key + value).lower()
                if mark not in seen:
                    seen.add(mark)
                    found.append({"key": key, "value": value})
        return rd_json(found or None)

    async def remove_tombstone(_: web.Request) -> web.StreamResponse:
        model.remove_tombstones()
        return ok_message("Remove tombstone successfully.")

    async def progress(request: web.Request) -> web.StreamResponse:
        if text := request.query.get("id", ""):
            store_id = parse_uint(text)
            if store_id is None:
                raise InputError(parse_uint_error(text), {})
            store = model.stores.get(store_id)
            if store is None or store.state != OFFLINE:
                raise JSONError(
                    404,
                    f"[PD:progress:ErrProgressNotFound]no progress found for the given store ID: {store_id}",
                )
            percent, speed, left = _removing_progress(model.now(), store)
            return rd_json(
                {
                    "action": "removing",
                    "store_id": store_id,
                    "progress": percent,
                    "current_speed": speed,
                    "left_seconds": left,
                }
            )
        if action := request.query.get("action", ""):
            removing = [s for s in model.stores.values() if s.state == OFFLINE]
            if action != "removing" or not removing:
                raise JSONError(
                    404, f"[PD:progress:ErrProgressNotFound]no progress found for the action: {action}"
                )
            parts = [_removing_progress(model.now(), s) for s in removing]
            percent = sum(p[0] for p in parts) / len(parts)
            speed = sum(p[1] for p in parts)
            left = max(p[2] for p in parts)
            return rd_json(
                {"action": action, "progress": percent, "current_speed": speed, "left_seconds": left}
            )
        raise JSONError(400, "need query parameters")

    return [
        Route(("GET",), "/stores", get_stores),
        Route(("GET",), "/labels", labels),
        Route(("GET",), "/stores/check", check_stores),
        Route(("GET",), "/stores/limit", get_limits),
        Route(("POST",), "/stores/limit", set_limits),
        Route(("DELETE",), "/stores/remove-tombstone", remove_tombstone),
        Route(("GET",), "/stores/progress", progress),
        Route(("GET",), "/store/{id}", get_store),
        Route(("DELETE",), "/store/{id}", delete_store),
        Route(("POST",), "/store/{id}/state", set_state),
        Route(("POST",), "/store/{id}/label", set_label),
        Route(("DELETE",), "/store/{id}/label", delete_label),
        Route(("POST",), "/store/{id}/weight", set_weight),
        Route(("POST",), "/store/{id}/limit", set_limit),
    ]


def _parse_bool(text: str) -> bool | None:
    """``strconv.ParseBool``."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _removing_progress(now: float, store: Store) -> tuple[float, float, float]:
    """(progress 0..1, speed MiB/s, seconds left) of an Offline store's draining."""
    start = max(store.removing_start_size, 1)
    left_size = store.region_size
    done = max(start - left_size, 0)
    elapsed = max(now - store.removing_started_at, 0.0)
    speed = done / elapsed if elapsed > 0 else 0.0
    left = left_size / speed if speed > 0 else sys.float_info.max
    return min(done / start, 1.0), speed, left
