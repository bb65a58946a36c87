"""Scheduler, scheduler-config and checker endpoints (``server/api/scheduler.go``,
``server/api/checker.go`` and the per-scheduler config handlers).

The evict-leader and grant-leader schedulers are one instance each holding a set of stores:
``POST /schedulers`` a second time adds a store; ``DELETE /schedulers/evict-leader-scheduler-<id>``
removes one and answers with the inner call's status and a ``null`` body, as PD does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from pd.simulator.context import ApiContext
from pd.simulator.errors import InputError, JSONError, PDFailure
from pd.simulator.gofmt import rfc3339, seconds_to_ns
from pd.simulator.http_util import (
    BodySyntaxError,
    Route,
    as_uint64,
    is_number,
    loads,
    method_not_allowed,
    not_found,
    ok_message,
    parse_uint,
    parse_uint_error,
    plain_text,
    rd_json,
    read_int_map,
    read_object,
)
from pd.simulator.schedulers import EVICT_LEADER, GRANT_LEADER, SCHEDULER_TYPES, Scheduler

NOT_IMPLEMENTED = {
    "balance-region-scheduler",
    "shuffle-leader-scheduler",
    "random-merge-scheduler",
    "label-scheduler",
    "transfer-witness-leader-scheduler",
}
SHUFFLE_ROLES = ["leader", "follower", "learner"]


def routes(ctx: ApiContext) -> list[Route]:
    """The routes of this module, bound to ``ctx``."""
    model = ctx.model
    controller = model.schedulers

    async def list_schedulers(request: web.Request) -> web.StreamResponse:
        status = request.query.get("status", "")
        if status == "paused":
            paused = controller.paused()
            if "timestamp" in request.query:
                return rd_json(
                    [
                        {
                            "name": s.name,
                            "paused_at": rfc3339(seconds_to_ns(s.paused_at)),
                            "resume_at": rfc3339(seconds_to_ns(s.resume_at)),
                        }
                        for s in paused
                    ]
                )
            return rd_json([s.name for s in paused])
        if status == "disabled":
            return rd_json([])
        return rd_json(controller.names())

    async def create(request: web.Request) -> web.StreamResponse:
        body = await read_object(request)
        name = body.get("name")
        if not isinstance(name, str):
            raise JSONError(400, "missing scheduler name")
        if name not in SCHEDULER_TYPES:
            raise JSONError(400, "unknown scheduler")
        kind = SCHEDULER_TYPES[name]
        args: list[str] = []
        store_id: int | None = None
        if kind == "scatter-range":
            for option in ("start_key", "end_key", "range_name"):
                value = body.get(option)
                if not isinstance(value, str):
                    raise JSONError(400, pd_text_option(option))
                args.append(value)
        elif name in (EVICT_LEADER, GRANT_LEADER):
            if "store_id" not in body:
                raise JSONError(400, "missing store id")
            raw = body["store_id"]
            if not is_number(raw):
                raise JSONError(400, "please input a right store id")
            store_id = as_uint64(raw)
            if controller.get(name) is not None:
                try:
                    controller.add_store(name, store_id)
                except PDFailure as exc:
                    # PD re-posts to its own scheduler-config API and wraps that JSON body again.
                    raise JSONError(500, f'"{exc.text}"\n') from None
                return ok_message("The scheduler has been applied to the store.")
        elif kind == "shuffle-hot-region":
            limit = body.get("limit")
            args.append(str(as_uint64(limit)) if is_number(limit) else "1")
        elif kind == "grant-hot-region":
            if controller.get("balance-hot-region-scheduler") is not None:
                raise JSONError(400, "balance-hot-region-scheduler is running, please remove it first")
            leader_id, peer_ids = body.get("store-leader-id"), body.get("store-id")
            if not isinstance(leader_id, str):
                raise JSONError(400, "missing leader id")
            if not isinstance(peer_ids, str):
                raise JSONError(400, "missing store id")
            args += [leader_id, peer_ids]
        elif kind == "hot-region" and controller.get("grant-hot-region-scheduler") is not None:
            raise JSONError(400, "grant-hot-region-scheduler is running, please remove it first")
        try:
            controller.create(name, store_id=store_id, args=args)
        except PDFailure as exc:
            raise JSONError(400, exc.text) from None
        return ok_message("The scheduler is created.")

    async def delete(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        for family in (EVICT_LEADER, GRANT_LEADER):
            if name.startswith(family) and name != family:
                status = _delete_store(family, name.split("-")[-1])
                return rd_json(None, status)
        try:
            controller.remove(name)
        except PDFailure as exc:
            raise JSONError(404 if exc.code == "ErrSchedulerNotFound" else 500, exc.text) from None
        return ok_message("The scheduler is removed.")

    def _delete_store(family: str, store_text: str) -> int:
        if controller.get(family) is None:
            return 404  # the scheduler-config mux has no handler: "404 page not found"
        store_id = parse_uint(store_text)
        if store_id is None:
            return 400
        try:
            controller.remove_store(family, store_id)
        except PDFailure:
            return 404
        return 200

    async def pause(request: web.Request) -> web.StreamResponse:
        body = await read_int_map(request)
        if "delay" not in body:
            raise JSONError(400, "missing pause time")
        try:
            controller.pause(request.match_info["name"], body["delay"])
        except PDFailure as exc:
            raise JSONError(500, exc.text) from None
        return ok_message("Pause or resume the scheduler successfully.")

    async def scheduler_config(request: web.Request) -> web.StreamResponse:
        return _scheduler_config(ctx, request.method, request.match_info["rest"], await request.read())

    async def get_checker(request: web.Request) -> web.StreamResponse:
        try:
            paused = controller.checker_paused(request.match_info["name"])
        except PDFailure as exc:
            raise JSONError(500, exc.text) from None
        return rd_json({"paused": paused})

    async def post_checker(request: web.Request) -> web.StreamResponse:
        body = await read_int_map(request, "int")
        if "delay" not in body:
            raise JSONError(400, "missing pause time")
        delay = body["delay"]
        if delay < 0:
            raise JSONError(400, "delay cannot be negative")
        try:
            controller.pause_checker(request.match_info["name"], delay)
        except PDFailure as exc:
            raise JSONError(500, exc.text) from None
        return ok_message(
            "Resume the checker successfully." if delay == 0 else "Pause the checker successfully."
        )

    return [
        Route(("GET",), "/schedulers", list_schedulers),
        Route(("POST",), "/schedulers", create),
        Route(("DELETE",), "/schedulers/{name}", delete),
        Route(("POST",), "/schedulers/{name}", pause),
        Route(("*",), "/scheduler-config/{rest:.+}", scheduler_config),
        Route(("GET",), "/checker/{name}", get_checker),
        Route(("POST",), "/checker/{name}", post_checker),
    ]


def pd_text_option(option: str) -> str:
    """``errs.ErrOptionNotExist``: what PD says when a scatter-range option is missing."""
    return f"[PD:apiutil:ErrOptionNotExist]the option {option} does not exist"


def _store_ranges(scheduler: Scheduler) -> dict[str, Any]:
    return {str(k): v for k, v in sorted(scheduler.stores.items(), key=lambda kv: str(kv[0]))}


def _scheduler_config(ctx: ApiContext, method: str, rest: str, raw: bytes) -> web.StreamResponse:
    """The per-scheduler config handlers mounted under ``/scheduler-config/<name>/``."""
    controller = ctx.model.schedulers
    name, _, sub = rest.partition("/")
    scheduler = controller.get(name)
    if scheduler is None or not _:
        return not_found()
    path = "/" + sub
    if name in NOT_IMPLEMENTED:
        return plain_text(200, "not implements")

    def only(wanted: str, make: Callable[[], web.StreamResponse]) -> web.StreamResponse:
        # gorilla/mux inside each scheduler: a known path with another method is a bare 405.
        return make() if method == wanted else method_not_allowed()

    if name in (EVICT_LEADER, GRANT_LEADER):
        if path == "/list":
            body: dict[str, Any] = {"store-id-ranges": _store_ranges(scheduler)}
            if name == EVICT_LEADER:
                body["batch"] = scheduler.batch
            return only("GET", lambda: rd_json(body))
        if path == "/config":
            return only("POST", lambda: _update_leader_config(ctx, scheduler, raw))
        if path.startswith("/delete/") and path.count("/") == 2:
            return only("DELETE", lambda: _delete_leader_store(ctx, name, path.rsplit("/", 1)[1]))
        return not_found()
    if name == "balance-leader-scheduler":
        if path == "/list":
            return only("GET", lambda: rd_json({"ranges": _whole(), "batch": scheduler.batch}))
        if path == "/config":
            return only("POST", lambda: _update_balance_leader(scheduler, raw))
        return not_found()
    if name == "evict-slow-store-scheduler" and path == "/list":
        return only("GET", lambda: rd_json(EVICT_SLOW_STORE_CONFIG))
    if name == "shuffle-region-scheduler":
        if path == "/list":
            return only("GET", lambda: rd_json({"ranges": _whole(), "roles": SHUFFLE_ROLES}))
        if path == "/roles":
            if method == "GET":
                return rd_json(SHUFFLE_ROLES)
            return only("POST", lambda: ok_message("Config is updated."))
    return not_found()


def _delete_leader_store(ctx: ApiContext, name: str, text: str) -> web.StreamResponse:
    store_id = parse_uint(text)
    if store_id is None:
        return rd_json(parse_uint_error(text), 400)
    try:
        last = ctx.model.schedulers.remove_store(name, store_id)
    except PDFailure as exc:
        return rd_json(exc.text, 404)
    return rd_json("The last store has been deleted" if last else None)


EVICT_SLOW_STORE_CONFIG = {
    "disabled": False,
    "recovery-duration": 1800,
    "evict-stores": [],
    "enable-network-slow-store": False,
    "paused-network-slow-stores": [],
    "evicted-network-slow-stores": [],
    "batch": 3,
}


def _whole() -> list[dict[str, str]]:
    return [{"end-key": "", "start-key": ""}]


def _decode_object(raw: bytes) -> dict[str, Any]:
    try:
        value = loads(raw)
    except BodySyntaxError as exc:
        raise InputError(exc.msg, {"Offset": exc.offset}) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError("json: cannot unmarshal value into Go value of type map[string]interface {}", {})
    return value


def _update_leader_config(ctx: ApiContext, scheduler: Scheduler, raw: bytes) -> web.StreamResponse:
    controller = ctx.model.schedulers
    body = _decode_object(raw)
    store = body.get("store_id")
    if "batch" in body:
        batch = body["batch"]
        if not is_number(batch) or not float(batch).is_integer() or not 1 <= batch <= 100:
            return rd_json("batch must be an integer in [1, 100]", 400)
        scheduler.batch = int(batch)
    if is_number(store):
        try:
            controller.add_store(scheduler.name, as_uint64(store))
        except PDFailure as exc:
            return rd_json(exc.text, 500)
    return ok_message("The scheduler has been applied to the store.")


def _update_balance_leader(scheduler: Scheduler, raw: bytes) -> web.StreamResponse:
    body = _decode_object(raw)
    if "batch" not in body and "ranges" not in body:
        return rd_json("Config item is not found.", 400)
    batch = body.get("batch", scheduler.batch)
    if not is_number(batch) or not float(batch).is_integer() or not 1 <= batch <= 100:
        return rd_json("invalid batch size which should be an integer between 1 and 100", 400)
    if int(batch) == scheduler.batch:
        return ok_message("Config is the same with origin, so do nothing.")
    scheduler.batch = int(batch)
    return ok_message("Config is updated.")
