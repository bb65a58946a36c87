"""``PDClient``: PD's HTTP API over an injected ``httpx.AsyncClient``.

Reads have a method each, named after PD's Go client (``client/http/interface.go``) in snake_case;
each passes a stable request name ("GetStores") into one ``_request`` that picks the endpoint, sends
``X-Caller-ID``, logs one line, maps the answer with ``decipher_response`` and parses it into a model.
Writes have no method of their own: the action catalog builds each request (``PDRequest``) once and
``send`` delivers it.

Endpoint choice: the PD leader first (learned from ``GET /members``), then every other endpoint in
the configured order. Any member can answer because followers proxy to the leader; asking the
leader first saves a hop and keeps working while a follower's proxy is broken.

Delivery rules:

* Reads (GET) move to the next endpoint on connection errors, timeouts and infrastructure 5xx,
  and are retried ``read_retries`` more times with a doubling ``backoff``.
* Writes are never sent twice once they may have reached PD. They move to the next endpoint only
  when no connection could be made (nothing was sent). After a timeout, a broken connection or a
  5xx they raise ``PDUnavailable`` with ``maybe_sent=True``, and the caller must read PD's state
  before deciding anything.
* A refusal (``PDRequestError``: 400, 404, 410, a 500 carrying PD's reason) is final on any endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from actions.models import PDRequest
from pd import paths
from pd.errors import (
    PDError,
    PDNotFound,
    PDOperatorNotFound,
    PDRegionNotFound,
    PDResponseError,
    PDUnavailable,
    decipher_response,
)
from pd.models import (
    EvictLeaderConfig,
    HealthInfo,
    HotStoreStats,
    Member,
    MembersInfo,
    OperatorObject,
    OperatorStatus,
    RegionInfo,
    RegionsInfo,
    ReplicationConfig,
    ScheduleConfig,
    StoreHotPeersInfos,
    StoreInfo,
    StoreLabel,
    StoreLimit,
    StoresInfo,
)

logger = logging.getLogger("pd")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]
QueryParams = Mapping[str, str] | Sequence[tuple[str, str]]

DEFAULT_CALLER_ID = "tikv-chatops"
CALLER_ID_HEADER = "X-Caller-ID"
DEFAULT_TIMEOUT = 10.0


# Raised before a single byte of the request left this process: safe to try another endpoint.
_NOT_SENT: tuple[type[httpx.RequestError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def tls_verify(
    ca_path: str | Path | None = None,
    cert_path: str | Path | None = None,
    key_path: str | Path | None = None,
) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` takes to reach PD: the one place PD's TLS is built.

    ``True`` (the system's CAs) without TLS files. With ``ca_path`` only PD's CA is trusted;
    ``cert_path``/``key_path`` present the client certificate PD requires once its security section
    is configured (pd-ctl's ``--cacert --cert --key``). A key without its certificate cannot
    authenticate to PD: it is ignored, with a warning.
    """
    if key_path and not cert_path:
        logger.warning("a client key without its certificate is ignored: PD checks a certificate, not a key")
    if not (ca_path or cert_path):
        return True
    context = ssl.create_default_context(cafile=str(ca_path) if ca_path else None)
    if cert_path:
        context.load_cert_chain(certfile=str(cert_path), keyfile=str(key_path) if key_path else None)
    return context


def build_http_client(
    *, timeout: float = DEFAULT_TIMEOUT, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` the composition root hands to ``PDClient``; the caller closes it.

    TLS and the connection pool belong to ``transport`` (built with ``tls_verify``): a transport handed
    to ``httpx.AsyncClient`` carries its own, and the client's ``verify`` is then unused.
    """
    return httpx.AsyncClient(timeout=timeout, transport=transport)


def _normalize_endpoint(endpoint: str) -> str:
    endpoint = endpoint.strip().rstrip("/")
    if not endpoint:
        raise ValueError("a PD endpoint must not be empty")
    # pd-ctl accepts "host:port"; PD serves plain HTTP unless TLS is configured.
    return endpoint if "://" in endpoint else f"http://{endpoint}"


def _endpoint_key(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(_normalize_endpoint(url))
    return parsed.scheme, parsed.host.lower(), parsed.port


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(into: Any) -> TypeAdapter[Any]:
    # Building a TypeAdapter compiles a validator; do it once per target type.
    adapter = _ADAPTERS.get(into)
    if adapter is None:
        adapter = _ADAPTERS[into] = TypeAdapter(into)
    return adapter


class PDClient:
    """PD's HTTP API v1. Every method accepts ``caller_id=`` to override ``X-Caller-ID`` for that call."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoints: Sequence[str],
        *,
        caller_id: str = DEFAULT_CALLER_ID,
        read_retries: int = 2,
        backoff: float = 0.05,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if isinstance(endpoints, str):
            raise TypeError("endpoints is a sequence of URLs; split PD_URL on commas first")
        normalized = list(dict.fromkeys(_normalize_endpoint(e) for e in endpoints))
        if not normalized:
            raise ValueError("PDClient needs at least one PD endpoint")
        if read_retries < 0:
            raise ValueError("read_retries must be >= 0")
        self._http = http
        self._endpoints = tuple(normalized)
        self._caller_id = caller_id
        self._read_retries = read_retries
        self._backoff = backoff
        self._sleep = sleep
        self._leader: str | None = None
        # With one endpoint there is nothing to choose, so never ask for members just to route.
        self._leader_stale = len(self._endpoints) > 1
        self._discovery = asyncio.Lock()

    # --- plumbing ---------------------------------------------------------------------------

    def _ordered_endpoints(self) -> list[str]:
        if self._leader is None:
            return list(self._endpoints)
        return [self._leader, *(e for e in self._endpoints if e != self._leader)]

    def _mark_leader_stale(self) -> None:
        if len(self._endpoints) > 1:
            self._leader_stale = True

    def _adopt_leader(self, leader: Member | None) -> None:
        self._leader_stale = False
        if leader is None:
            self._leader = None
            return
        wanted = {_endpoint_key(url) for url in leader.client_urls}
        for endpoint in self._endpoints:
            if _endpoint_key(endpoint) in wanted:
                self._leader = endpoint
                return
        # The leader advertises an address we were not given (NAT, a service name): keep to the
        # configured endpoints rather than dial an address nobody vetted.
        logger.debug("PD leader %s advertises %s, none configured", leader.name, leader.client_urls)
        self._leader = None

    async def _refresh_leader(self) -> None:
        if not self._leader_stale:
            return
        async with self._discovery:
            if not self._leader_stale:
                return
            for endpoint in self._ordered_endpoints():
                try:
                    response = await self._send_once(
                        endpoint, "GetMembers", "GET", paths.MEMBERS, None, None, self._caller_id
                    )
                    data = decipher_response(
                        response.status_code,
                        response.headers.get("content-type"),
                        response.content,
                        request_name="GetMembers",
                        path=paths.MEMBERS,
                    )
                    members = MembersInfo.model_validate(data)
                except (httpx.RequestError, PDError, ValidationError):
                    continue
                self._adopt_leader(members.leader)
                return
            # Nobody answered; requests still try every endpoint, and the next one asks again.

    async def _send_once(
        self,
        endpoint: str,
        request_name: str,
        method: str,
        path: str,
        params: QueryParams | None,
        body: object,
        caller_id: str,
    ) -> httpx.Response:
        url = httpx.URL(endpoint + path, params=params)
        started = time.perf_counter()
        try:
            response = await self._http.request(
                method,
                url,
                json=body,
                headers={CALLER_ID_HEADER: caller_id},
            )
        except httpx.RequestError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            logger.info("%s %s %s -> %s in %.1f ms", request_name, method, url, type(exc).__name__, elapsed)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        logger.info("%s %s %s -> %d in %.1f ms", request_name, method, url, response.status_code, elapsed)
        return response

    @staticmethod
    def _transport_error(
        exc: httpx.RequestError, *, endpoint: str, request_name: str, path: str, maybe_sent: bool
    ) -> PDUnavailable:
        if isinstance(exc, _NOT_SENT):
            what = f"could not connect to {endpoint}"
        elif isinstance(exc, httpx.TimeoutException):
            what = f"{endpoint} did not answer in time"
        else:
            what = f"the connection to {endpoint} failed"
        detail = str(exc) or type(exc).__name__
        return PDUnavailable(
            f"{what} ({detail})",
            path=path,
            request_name=request_name,
            maybe_sent=maybe_sent,
            endpoint=endpoint,
        )

    @staticmethod
    def _exhausted(failures: list[PDUnavailable]) -> PDUnavailable:
        last = failures[-1]
        if len(failures) == 1:
            return last
        summary = "; ".join(
            f"{f.endpoint}: {f.message}" if f.status is None else f"{f.endpoint}: HTTP {f.status} {f.message}"
            for f in failures
        )
        error = type(last)(
            f"no PD endpoint answered: {summary}",
            status=last.status,
            path=last.path,
            request_name=last.request_name,
            code=last.code,
            body=last.body,
            endpoint=last.endpoint,
        )
        error.__cause__ = last
        return error

    async def _over_endpoints(
        self,
        request_name: str,
        method: str,
        path: str,
        params: QueryParams | None,
        body: object,
        caller_id: str,
        is_read: bool,
    ) -> object:
        await self._refresh_leader()
        failures: list[PDUnavailable] = []
        for endpoint in self._ordered_endpoints():
            try:
                response = await self._send_once(
                    endpoint, request_name, method, path, params, body, caller_id
                )
            except httpx.RequestError as exc:
                self._mark_leader_stale()
                sent = not isinstance(exc, _NOT_SENT)
                error = self._transport_error(
                    exc,
                    endpoint=endpoint,
                    request_name=request_name,
                    path=path,
                    maybe_sent=sent and not is_read,
                )
                if sent and not is_read:
                    raise error from exc
                failures.append(error)
                continue
            try:
                return decipher_response(
                    response.status_code,
                    response.headers.get("content-type"),
                    response.content,
                    request_name=request_name,
                    path=path,
                )
            except PDError as exc:
                exc.endpoint = endpoint
                if not isinstance(exc, PDUnavailable):
                    raise
                self._mark_leader_stale()
                if not is_read:
                    # PD's rate limiter answers 429 before any handler runs; every 5xx is in doubt.
                    exc.maybe_sent = response.status_code >= 500
                    raise
                failures.append(exc)
        raise self._exhausted(failures)

    async def _request(
        self,
        request_name: str,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: object = None,
        caller_id: str | None = None,
    ) -> object:
        """Send one request and return PD's decoded answer; GETs fail over and retry, writes never resend."""
        is_read = method.upper() == "GET"
        attempts = 1 + self._read_retries if is_read else 1
        for attempt in range(attempts):
            if attempt:
                await self._sleep(self._backoff * 2 ** (attempt - 1))
            try:
                return await self._over_endpoints(
                    request_name, method.upper(), path, params, json, caller_id or self._caller_id, is_read
                )
            except PDUnavailable:
                if attempt == attempts - 1:
                    raise
                logger.debug(
                    "%s: PD unavailable, retry %d of %d", request_name, attempt + 1, self._read_retries
                )
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _parse(into: type[T], data: object, *, request_name: str, path: str) -> T:
        try:
            parsed: T = _adapter(into).validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise PDResponseError(
                f"unexpected answer from PD ({where}: {first['msg']})",
                status=200,
                path=path,
                request_name=request_name,
                body=repr(data),
            ) from exc
        return parsed

    async def _get(
        self,
        request_name: str,
        path: str,
        into: type[T],
        *,
        params: QueryParams | None = None,
        caller_id: str | None,
    ) -> T:
        data = await self._request(request_name, "GET", path, params=params, caller_id=caller_id)
        return self._parse(into, data, request_name=request_name, path=path)

    async def send(self, request: PDRequest, *, caller_id: str | None = None) -> object:
        """Send a catalog-built request and return PD's decoded JSON (usually a confirmation string).

        A GET is a read (fails over, retries); any other method is a write, sent at most once
        unless no connection could be made at all.
        """
        if not request.path.startswith("/"):
            raise ValueError(f"path must start with '/': {request.path!r}")
        return await self._request(
            request.name,
            request.method,
            request.path,
            params=request.query or None,
            json=request.body,
            caller_id=caller_id,
        )

    # --- members and cluster ----------------------------------------------------------------

    async def get_health(self, *, caller_id: str | None = None) -> list[HealthInfo]:
        """``GET /health``: one entry per member with whether it answered PD's own ping."""
        return await self._get("GetHealthStatus", paths.HEALTH, list[HealthInfo], caller_id=caller_id)

    async def get_members(self, *, caller_id: str | None = None) -> MembersInfo:
        """``GET /members``; also refreshes which endpoint is the leader."""
        members = await self._get("GetMembers", paths.MEMBERS, MembersInfo, caller_id=caller_id)
        self._adopt_leader(members.leader)
        return members

    # --- stores -----------------------------------------------------------------------------

    async def get_stores(
        self, states: Sequence[int] | None = None, *, caller_id: str | None = None
    ) -> StoresInfo:
        """``GET /stores``; PD's default is Up and Offline (0, 1); ``states=(0, 1, 2)`` adds Tombstones."""
        params = [("state", str(int(state))) for state in states] if states else None
        return await self._get("GetStores", paths.STORES, StoresInfo, params=params, caller_id=caller_id)

    async def get_store(self, store_id: int, *, caller_id: str | None = None) -> StoreInfo:
        """``GET /store/{id}``; raises ``PDStoreNotFound`` when PD does not know it."""
        return await self._get("GetStore", paths.store_by_id(store_id), StoreInfo, caller_id=caller_id)

    async def get_labels(self, *, caller_id: str | None = None) -> list[StoreLabel]:
        """``GET /labels``: every distinct store label in the cluster."""
        data = await self._request("GetLabels", "GET", paths.LABELS, caller_id=caller_id)
        if data is None:
            return []
        return self._parse(list[StoreLabel], data, request_name="GetLabels", path=paths.LABELS)

    async def get_stores_limit(self, *, caller_id: str | None = None) -> dict[int, StoreLimit]:
        """``GET /stores/limit``: add-peer / remove-peer rates per store id."""
        return await self._get(
            "GetStoresLimit", paths.STORES_LIMIT, dict[int, StoreLimit], caller_id=caller_id
        )

    # --- regions and hotspots ---------------------------------------------------------------

    async def get_region_by_id(self, region_id: int, *, caller_id: str | None = None) -> RegionInfo:
        """``GET /region/id/{id}``; a missing region raises ``PDRegionNotFound`` on every PD version."""
        path = paths.region_by_id(region_id)
        region = await self._get("GetRegionByID", path, RegionInfo, caller_id=caller_id)
        if not region.exists:
            # v8.5 answers 200 with an all-zero region instead of master's 404.
            raise PDRegionNotFound(
                f"region {region_id} not found", status=200, path=path, request_name="GetRegionByID"
            )
        return region

    async def get_region_by_key(
        self, key: str, *, hex_key: bool = False, caller_id: str | None = None
    ) -> RegionInfo:
        """``GET /region/key/{key}`` (``?format=hex`` when ``key`` is hex); ``PDRegionNotFound`` if none."""
        path = paths.region_by_key(key)
        params = {"format": "hex"} if hex_key else None
        region = await self._get("GetRegionByKey", path, RegionInfo, params=params, caller_id=caller_id)
        if not region.exists:
            raise PDRegionNotFound(
                f"no region holds key {key}", status=200, path=path, request_name="GetRegionByKey"
            )
        return region

    async def get_regions_by_key_range(
        self, start_key: str = "", end_key: str = "", limit: int = 16, *, caller_id: str | None = None
    ) -> RegionsInfo:
        """``GET /regions/key?key=&end_key=&limit=``: regions in key order from ``start_key`` (raw keys)."""
        params = {"key": start_key, "end_key": end_key, "limit": str(limit)}
        return await self._get(
            "GetRegionsByKeyRange", paths.REGIONS_KEY, RegionsInfo, params=params, caller_id=caller_id
        )

    async def get_region_siblings(self, region_id: int, *, caller_id: str | None = None) -> RegionsInfo:
        """``GET /regions/sibling/{id}``: the regions just left and right of ``region_id``."""
        return await self._get(
            "GetRegionSiblings", paths.region_siblings(region_id), RegionsInfo, caller_id=caller_id
        )

    async def get_regions_check(self, kind: str, *, caller_id: str | None = None) -> RegionsInfo:
        """``GET /regions/check/{kind}`` (miss-peer, down-peer, pending-peer, …)."""
        return await self._get("GetRegionsCheck", paths.regions_check(kind), RegionsInfo, caller_id=caller_id)

    async def get_top_regions(
        self, kind: str, limit: int = 16, *, caller_id: str | None = None
    ) -> RegionsInfo:
        """``GET /regions/{kind}?limit=``: the top-N regions by writeflow, readflow, size, keys, cpu, …."""
        if limit < 1:
            raise ValueError("limit must be >= 1")
        return await self._get(
            "GetTopRegions",
            paths.top_regions(kind),
            RegionsInfo,
            params={"limit": str(limit)},
            caller_id=caller_id,
        )

    async def get_hot_write_regions(self, *, caller_id: str | None = None) -> StoreHotPeersInfos:
        """``GET /hotspot/regions/write``."""
        return await self._get(
            "GetHotWriteRegions", paths.HOTSPOT_WRITE_REGIONS, StoreHotPeersInfos, caller_id=caller_id
        )

    async def get_hot_read_regions(self, *, caller_id: str | None = None) -> StoreHotPeersInfos:
        """``GET /hotspot/regions/read``."""
        return await self._get(
            "GetHotReadRegions", paths.HOTSPOT_READ_REGIONS, StoreHotPeersInfos, caller_id=caller_id
        )

    async def get_hot_stores(self, *, caller_id: str | None = None) -> HotStoreStats:
        """``GET /hotspot/stores``: byte, key, query and cpu rates per store."""
        return await self._get("GetHotStores", paths.HOTSPOT_STORES, HotStoreStats, caller_id=caller_id)

    # --- operators --------------------------------------------------------------------------

    async def get_operators(self, kind: str | None = None, *, caller_id: str | None = None) -> list[str]:
        """``GET /operators[?kind=admin|leader|region|waiting]``: PD's operator strings."""
        params = {"kind": kind} if kind else None
        data = await self._request("GetOperators", "GET", paths.OPERATORS, params=params, caller_id=caller_id)
        # With ?kind= and no match PD encodes its nil slice as null.
        return (
            []
            if data is None
            else self._parse(list[str], data, request_name="GetOperators", path=paths.OPERATORS)
        )

    async def get_operators_object(self, *, caller_id: str | None = None) -> list[OperatorObject]:
        """``GET /operators?object``: structured operators (desc, brief, region, epoch, status)."""
        data = await self._request(
            "GetOperatorsObject", "GET", paths.OPERATORS, params={"object": "true"}, caller_id=caller_id
        )
        if data is None:
            return []
        return self._parse(
            list[OperatorObject], data, request_name="GetOperatorsObject", path=paths.OPERATORS
        )

    async def get_operator_status(self, region_id: int, *, caller_id: str | None = None) -> OperatorStatus:
        """``GET /operators/{id}``; raises ``PDOperatorNotFound`` when nothing ran in the last 10 minutes."""
        path = paths.operator_by_region(region_id)
        text = await self._get("GetOperatorStatus", path, str, caller_id=caller_id)
        try:
            return OperatorStatus.parse(text)
        except ValueError as exc:
            raise PDResponseError(
                str(exc), status=200, path=path, request_name="GetOperatorStatus", body=text
            ) from exc

    async def get_operator_records(
        self, from_ts: float | None = None, *, caller_id: str | None = None
    ) -> list[str]:
        """``GET /operators/records[?from=<unix seconds>]``: finished operators; ``[]`` when none."""
        params = {"from": str(int(from_ts))} if from_ts is not None else None
        try:
            data = await self._request(
                "GetOperatorRecords", "GET", paths.OPERATOR_RECORDS, params=params, caller_id=caller_id
            )
        except PDOperatorNotFound:
            # PD answers an empty history with 500 "operator not found".
            return []
        if data is None:
            return []
        return self._parse(list[str], data, request_name="GetOperatorRecords", path=paths.OPERATOR_RECORDS)

    # --- schedulers -------------------------------------------------------------------------

    async def get_schedulers(self, status: str | None = None, *, caller_id: str | None = None) -> list[str]:
        """``GET /schedulers[?status=paused|disabled]``: scheduler names."""
        params = {"status": status} if status else None
        data = await self._request(
            "GetSchedulers", "GET", paths.SCHEDULERS, params=params, caller_id=caller_id
        )
        return (
            []
            if data is None
            else self._parse(list[str], data, request_name="GetSchedulers", path=paths.SCHEDULERS)
        )

    async def get_evict_leader_stores(self, *, caller_id: str | None = None) -> EvictLeaderConfig:
        """The evict-leader scheduler's stores; an empty config when the scheduler is not running."""
        path = paths.scheduler_config_list(paths.EVICT_LEADER_SCHEDULER)
        try:
            return await self._get("GetEvictLeaderConfig", path, EvictLeaderConfig, caller_id=caller_id)
        except PDNotFound:
            # PD's scheduler-config mux answers 404 for a scheduler that is not running.
            return EvictLeaderConfig()

    async def get_scheduler_config(self, name: str, *, caller_id: str | None = None) -> object:
        """``GET /scheduler-config/{name}/list``: one scheduler's config as PD sent it (404: not running)."""
        return await self._request(
            "GetSchedulerConfig", "GET", paths.scheduler_config_list(name), caller_id=caller_id
        )

    # --- config -----------------------------------------------------------------------------

    async def get_config(self, *, caller_id: str | None = None) -> dict[str, Any]:
        """``GET /config``: the whole config, as PD sent it."""
        return await self._get("GetConfig", paths.CONFIG, dict[str, Any], caller_id=caller_id)

    async def get_label_property_config(self, *, caller_id: str | None = None) -> dict[str, Any]:
        """``GET /config/label-property``: label properties (``reject-leader``…) by type."""
        data = await self._request(
            "GetLabelPropertyConfig", "GET", paths.CONFIG_LABEL_PROPERTY, caller_id=caller_id
        )
        if data is None:
            return {}
        return self._parse(
            dict[str, Any], data, request_name="GetLabelPropertyConfig", path=paths.CONFIG_LABEL_PROPERTY
        )

    async def get_schedule_config(self, *, caller_id: str | None = None) -> ScheduleConfig:
        """``GET /config/schedule``."""
        return await self._get(
            "GetScheduleConfig", paths.CONFIG_SCHEDULE, ScheduleConfig, caller_id=caller_id
        )

    async def get_replicate_config(self, *, caller_id: str | None = None) -> ReplicationConfig:
        """``GET /config/replicate``."""
        return await self._get(
            "GetReplicateConfig", paths.CONFIG_REPLICATE, ReplicationConfig, caller_id=caller_id
        )
