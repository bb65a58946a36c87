"""The aiohttp application for one PD member: PD's router, redirector and error rendering.

Every member's app serves the same model. Like PD's ``serverapi.NewRedirector``:

* ``/health``, ``/ping``, ``/version``, ``/status`` and ``GET /config`` are answered locally;
* a follower answers the rest as if proxied to the leader (same body), unless there is no
  leader (503 plain text ``redirect finds no leader``) or the request already carries
  ``PD-Redirector`` (500 ``redirect to not leader``);
* with ``PD-Allow-follower-handle`` a follower answers itself: region reads from its synced
  cache, everything needing the Raft cluster with 500 ``not bootstrapped``.

Unknown paths get gorilla/mux's ``404 page not found``; a known path with another method a
bare 405. Before any TiKV store exists, data endpoints answer 500 ``not bootstrapped``.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from pd.simulator import api_cluster, api_operators, api_regions, api_schedulers, api_stores
from pd.simulator.context import ApiContext
from pd.simulator.errors import (
    NO_LEADER_TEXT,
    NOT_BOOTSTRAPPED,
    REDIRECT_FAILED_TEXT,
    REDIRECT_TO_NOT_LEADER_TEXT,
    ConnectionDropped,
    InputError,
    JSONError,
    SimulatorError,
    TextError,
)
from pd.simulator.faults import Faults
from pd.simulator.http_util import (
    Handler,
    Route,
    errcode_response,
    http_error,
    method_not_allowed,
    not_found,
    rd_json,
)
from pd.simulator.model import ClusterModel

API_PREFIX = "/pd/api/v1"
ALLOW_FOLLOWER_HEADER = "PD-Allow-follower-handle"
REDIRECTOR_HEADER = "PD-Redirector"
_LOCAL_PREFIXES = tuple(
    API_PREFIX + p for p in ("/admin/log", "/status", "/health", "/ping", "/version", "/debug/pprof")
)


def all_routes(ctx: ApiContext) -> list[Route]:
    """Every route of the simulated PD v1 API."""
    return [
        *api_cluster.routes(ctx),
        *api_stores.routes(ctx),
        *api_regions.routes(ctx),
        *api_regions.hotspot_routes(ctx),
        *api_operators.routes(ctx),
        *api_schedulers.routes(ctx),
    ]


def _is_local(request: web.Request) -> bool:
    path = request.path
    return (request.method == "GET" and path == API_PREFIX + "/config") or path.startswith(_LOCAL_PREFIXES)


def _drop_connection(request: web.Request) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def build_app(
    model: ClusterModel, *, member: str | None = None, faults: Faults | None = None
) -> web.Application:
    """The PD HTTP API of ``member`` (default: the first member) over ``model``."""
    member_name = member if member is not None else model.members[0].name
    ctx = ApiContext(model, member_name, faults if faults is not None else Faults())
    routes = all_routes(ctx)
    by_handler: dict[int, Route] = {}

    @web.middleware
    async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        knobs = ctx.faults
        if knobs.is_down(ctx.member_name):
            return _drop_connection(request)
        if knobs.hang:
            await knobs.wait_while_hung()
        if knobs.slow_seconds > 0:
            await asyncio.sleep(knobs.slow_seconds)
        if knobs.is_down(ctx.member_name):
            return _drop_connection(request)
        if knobs.take_failure():
            return http_error(500, REDIRECT_FAILED_TEXT)
        return await handler(request)

    @web.middleware
    async def pd_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        model.advance()
        match = request.match_info
        failed = match.http_exception
        route = None if failed is not None else by_handler.get(id(match.route.handler))
        if request.path.startswith(API_PREFIX) and not _is_local(request):
            leader = model.leader_name if not ctx.faults.no_leader else None
            if leader != ctx.member_name:
                if request.headers.get(ALLOW_FOLLOWER_HEADER):
                    if route is not None and route.needs_cluster:
                        if not (route.region_read and request.method == "GET"):
                            return rd_json(NOT_BOOTSTRAPPED, 500)
                elif leader is None:
                    return http_error(503, NO_LEADER_TEXT)
                elif request.headers.get(REDIRECTOR_HEADER):
                    return http_error(500, REDIRECT_TO_NOT_LEADER_TEXT)
        if failed is not None:
            return method_not_allowed() if failed.status == 405 else not_found()
        if route is not None and route.needs_cluster and not model.bootstrapped:
            return rd_json(NOT_BOOTSTRAPPED, 500)
        try:
            return await handler(request)
        except JSONError as exc:
            return rd_json(exc.value, exc.status)
        except InputError as exc:
            return errcode_response(exc.msg, exc.data)
        except TextError as exc:
            return http_error(exc.status, exc.text)
        except ConnectionDropped:
            return _drop_connection(request)
        except SimulatorError as exc:
            return rd_json(str(exc), 500)

    app = web.Application(middlewares=[fault_middleware, pd_middleware])
    for route in routes:
        for method in route.methods:
            registered = app.router.add_route(method, API_PREFIX + route.path, route.handler)
            by_handler[id(registered.handler)] = route
    for alias in ("health", "ping"):
        target = next(r for r in routes if r.path == f"/{alias}")
        registered = app.router.add_route("GET", f"/pd/{alias}", target.handler)
        by_handler[id(registered.handler)] = target
    return app
