"""Region and hotspot endpoints (``server/api/region.go``, ``server/api/hot_status.go``).

Region bodies are ``rd.Data``: compact JSON, ``application/octet-stream``, no trailing newline.
Lookups by id and key use the model's indexes; top-N lists use ``heapq.nlargest``; only the
endpoints that list regions by nature walk them all.
"""

from __future__ import annotations

import heapq
import urllib.parse
from collections.abc import Callable

from aiohttp import web

from pd.simulator.context import ApiContext
from pd.simulator.errors import JSONError, pd_text
from pd.simulator.http_util import Handler, Route, parse_atoi, parse_uint, path_uint_string, rd_data, rd_json
from pd.simulator.keys import is_hex_key, raw_to_hex
from pd.simulator.topology import LEARNER, OFFLINE, VOTER, Region
from pd.simulator.views import region_json, regions_json, siblings_json

DEFAULT_LIMIT = 16
MAX_LIMIT = 10240
MAX_REGION_SIZE_MIB = 144  # TiKV region-max-size, PD's oversized threshold
MAX_REGION_KEYS = 1_440_000
EMPTY_REGION_SIZE_MIB = 1

TOP_N: dict[str, Callable[[Region], int]] = {
    "writeflow": lambda r: r.written_bytes,
    "readflow": lambda r: r.read_bytes,
    "writequery": lambda r: r.write_query,
    "readquery": lambda r: r.read_query,
    "confver": lambda r: r.conf_ver,
    "version": lambda r: r.version,
    "size": lambda r: r.approximate_size,
    "keys": lambda r: r.approximate_keys,
    "cpu": lambda r: r.cpu_usage,
}


def adjust_limit(text: str, default: int = DEFAULT_LIMIT) -> int:
    """``Handler.AdjustLimit``: Atoi, capped at 10240 (zero or negative pass through)."""
    limit = parse_atoi(text) if text else default
    return min(limit, MAX_LIMIT)


def _hex_param(text: str, hex_format: bool) -> str:
    """``apiutil.ParseHexKeys``: hex-decode when ``format=hex``, else take the raw bytes."""
    if not hex_format:
        return raw_to_hex(text)
    if not is_hex_key(text):
        bad = next((c for c in text if c not in "0123456789abcdefABCDEF"), None)
        if bad is None:
            raise JSONError(400, "encoding/hex: odd length hex string")
        raise JSONError(400, f"encoding/hex: invalid byte: U+{ord(bad):04X} {bad!r}")
    return text.upper()


def routes(ctx: ApiContext) -> list[Route]:
    """The routes of this module, bound to ``ctx``."""
    model = ctx.model

    def checked(check: Callable[[Region], bool]) -> Handler:
        async def handler(_: web.Request) -> web.StreamResponse:
            return rd_data(regions_json(model, [r for r in model.regions_in_order() if check(r)]))

        return handler

    async def by_id(request: web.Request) -> web.StreamResponse:
        region_id = path_uint_string(request.match_info["id"])
        if region_id == 0:
            raise JSONError(400, {})  # PD passes the error object itself: it marshals as {}
        region = model.regions.get(region_id)
        if region is None:
            raise JSONError(404, pd_text("ErrRegionNotFound", f"region {region_id} not found"))
        return rd_data(region_json(model, region))

    async def by_key(request: web.Request) -> web.StreamResponse:
        try:
            raw = urllib.parse.unquote(request.match_info["key"], errors="strict")
        except UnicodeDecodeError as exc:
            raise JSONError(400, str(exc)) from None
        key = _hex_param(raw, request.query.get("format") == "hex")
        region = model.region_by_key(key)
        if region is None:
            # PD passes no argument, so the unformatted template is printed.
            raise JSONError(404, pd_text("ErrRegionNotFound", "region %v not found"))
        return rd_data(region_json(model, region))

    async def all_regions(_: web.Request) -> web.StreamResponse:
        return rd_data(regions_json(model, list(model.regions_in_order())))

    async def scan(request: web.Request) -> web.StreamResponse:
        hex_format = request.query.get("format") == "hex"
        start = _hex_param(request.query.get("key", ""), hex_format)
        end = _hex_param(request.query.get("end_key", ""), hex_format)
        limit = adjust_limit(request.query.get("limit", ""))
        return rd_data(regions_json(model, model.scan_regions(start, end, limit)))

    async def count(_: web.Request) -> web.StreamResponse:
        return rd_json({"count": len(model.regions), "regions": None})

    async def by_store(request: web.Request) -> web.StreamResponse:
        store_id = parse_atoi(request.match_info["id"]) % 2**64
        kind = request.query.get("type", "") or "all"
        store = model.stores.get(store_id)
        ids = sorted(store.region_ids) if store is not None else []
        regions = [model.regions[i] for i in ids]
        if kind == "all":
            chosen = regions
        elif kind == "leader":
            chosen = [r for r in regions if r.leader is not None and r.leader.store_id == store_id]
        elif kind == "follower":
            chosen = [
                r
                for r in regions
                if (p := r.peer_on(store_id)) is not None and p.role == VOTER and r.leader is not p
            ]
        elif kind == "learner":
            chosen = [r for r in regions if (p := r.peer_on(store_id)) is not None and p.role == LEARNER]
        elif kind == "witness":
            chosen = []
        elif kind == "pending":
            chosen = [
                r
                for r in regions
                if r.pending_peers and (p := r.peer_on(store_id)) is not None and p.id in r.pending_peers
            ]
        else:
            raise JSONError(400, f"unknown sub tree region type {kind}")
        return rd_data(regions_json(model, chosen))

    def top(metric: Callable[[Region], int]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            limit = adjust_limit(request.query.get("limit", ""))
            chosen = heapq.nlargest(limit, model.regions.values(), key=metric) if limit > 0 else []
            return rd_data(regions_json(model, chosen))

        return handler

    async def sibling(request: web.Request) -> web.StreamResponse:
        region_id = parse_atoi(request.match_info["id"]) % 2**64
        region = model.regions.get(region_id)
        if region is None:
            raise JSONError(404, pd_text("ErrRegionNotFound", f"region {region_id} not found"))
        left, right = model.neighbours(region)
        return rd_data(siblings_json(model, left, right))

    async def range_holes(_: web.Request) -> web.StreamResponse:
        return rd_json([])  # the model's regions always cover the whole key space

    def histogram(attr: Callable[[Region], int], minimum: int) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            bound = minimum
            if text := request.query.get("bound", ""):
                bound = max(bound, parse_atoi(text))
            buckets: dict[int, int] = {}
            for region in model.regions.values():
                multiple = attr(region) // bound
                buckets[multiple] = buckets.get(multiple, 0) + 1
            items = [
                {"start": m * bound, "end": (m + 1) * bound - 1, "count": n}
                for m, n in sorted(buckets.items())
            ]
            return rd_json(items)

        return handler

    def max_replicas() -> int:
        return model.config.max_replicas

    checks: dict[str, Callable[[Region], bool]] = {
        "miss-peer": lambda r: sum(1 for p in r.peers if p.role == VOTER) < max_replicas(),
        "extra-peer": lambda r: len(r.peers) > max_replicas(),
        "pending-peer": lambda r: r.id in model.pending_peer_regions,
        "down-peer": lambda r: r.id in model.down_peer_regions,
        "learner-peer": lambda r: any(p.role == LEARNER for p in r.peers),
        "empty-region": lambda r: r.approximate_size <= EMPTY_REGION_SIZE_MIB,
        "offline-peer": lambda r: any(model.stores[p.store_id].state == OFFLINE for p in r.peers),
        "oversized-region": lambda r: (
            r.approximate_size > MAX_REGION_SIZE_MIB or r.approximate_keys > MAX_REGION_KEYS
        ),
        "undersized-region": lambda r: (
            r.approximate_size <= int(model.config.schedule["max-merge-region-size"])
            and r.approximate_keys <= model.config.max_merge_region_keys
        ),
    }

    def _fast(kind: str) -> Handler:
        index = model.down_peer_regions if kind == "down-peer" else model.pending_peer_regions

        async def handler(_: web.Request) -> web.StreamResponse:
            return rd_data(
                regions_json(model, [model.regions[i] for i in sorted(index) if i in model.regions])
            )

        return handler

    out = [
        Route(("GET",), "/region/id/{id}", by_id, region_read=True),
        Route(("GET",), "/region/key/{key}", by_key, region_read=True),
        Route(("GET",), "/regions", all_regions, region_read=True),
        Route(("GET",), "/regions/key", scan, region_read=True),
        Route(("GET",), "/regions/count", count, region_read=True),
        Route(("GET",), "/regions/store/{id}", by_store, region_read=True),
        Route(("GET",), "/regions/sibling/{id}", sibling, region_read=True),
        Route(("GET",), "/regions/range-holes", range_holes, region_read=True),
        Route(
            ("GET",), "/regions/check/hist-size", histogram(lambda r: r.approximate_size, 1), region_read=True
        ),
        Route(
            ("GET",),
            "/regions/check/hist-keys",
            histogram(lambda r: r.approximate_keys, 1000),
            region_read=True,
        ),
    ]
    for name, check in checks.items():
        handler = _fast(name) if name in ("down-peer", "pending-peer") else checked(check)
        out.append(Route(("GET",), f"/regions/check/{name}", handler))
    for name, metric in TOP_N.items():
        out.append(Route(("GET",), f"/regions/{name}", top(metric), region_read=True))
    return out


def hotspot_routes(ctx: ApiContext) -> list[Route]:
    """``/hotspot/*``."""
    from pd.simulator.views import hot_regions_json, hot_stores_json

    model = ctx.model

    def hot(kind: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            ids: list[int] = []
            for text in request.query.getall("store_id", []):
                store_id = parse_uint(text)
                if store_id is None:
                    raise JSONError(400, f"invalid store id: {text}")
                if store_id not in model.stores:
                    raise JSONError(500, pd_text("ErrStoreNotFound", f"store {store_id} not found"))
                ids.append(store_id)
            return rd_json(hot_regions_json(model, kind, ids or None))

        return handler

    async def stores(_: web.Request) -> web.StreamResponse:
        return rd_json(hot_stores_json(model))

    return [
        Route(("GET",), "/hotspot/regions/write", hot("write")),
        Route(("GET",), "/hotspot/regions/read", hot("read")),
        Route(("GET",), "/hotspot/stores", stores),
    ]
