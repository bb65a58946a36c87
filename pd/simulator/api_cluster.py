"""Cluster-level endpoints (``server/api/{health,member,cluster,version,status}.go``) and config
(``server/api/config.go``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pd.simulator.config import PDConfig
from pd.simulator.context import ApiContext
from pd.simulator.errors import (
    ConfigDecodeError,
    ConfigError,
    ConfigTypeError,
    InputError,
    JSONError,
)
from pd.simulator.gofmt import json_kind
from pd.simulator.http_util import BodySyntaxError, Route, loads, ok_message, rd_json, read_object
from pd.simulator.model import PD_VERSION
from pd.simulator.views import cluster_status_json, health_json, member_json, members_json, status_json

CONFIG_UPDATED = "The config is updated."


def routes(ctx: ApiContext) -> list[Route]:
    """The routes of this module, bound to ``ctx``."""
    model = ctx.model

    async def health(_: web.Request) -> web.StreamResponse:
        return rd_json(health_json(model))

    async def ping(_: web.Request) -> web.StreamResponse:
        return web.Response(status=200)

    async def members(_: web.Request) -> web.StreamResponse:
        return rd_json(members_json(model))

    async def leader(_: web.Request) -> web.StreamResponse:
        current = model.leader_member
        return rd_json(None if current is None else member_json(current, full=False))

    async def version(_: web.Request) -> web.StreamResponse:
        return rd_json({"version": PD_VERSION})

    async def status(_: web.Request) -> web.StreamResponse:
        return rd_json(status_json(model))

    async def cluster(_: web.Request) -> web.StreamResponse:
        return rd_json({"id": model.cluster_id, "max_peer_count": model.config.max_replicas})

    async def cluster_status(_: web.Request) -> web.StreamResponse:
        return rd_json(cluster_status_json(model))

    async def get_config(_: web.Request) -> web.StreamResponse:
        return rd_json(full_config(ctx))

    async def get_default_config(_: web.Request) -> web.StreamResponse:
        return rd_json(full_config(ctx, PDConfig()))

    async def post_config(request: web.Request) -> web.StreamResponse:
        data = await request.read()
        try:
            body = loads(data)
        except BodySyntaxError as exc:
            raise JSONError(400, exc.msg) from None
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise JSONError(
                400,
                f"json: cannot unmarshal {json_kind(body)} into Go value of type map[string]interface {{}}",
            )
        try:
            model.config.set_items(body)
        except ConfigError as exc:
            raise JSONError(400, exc.text) from None
        return ok_message(CONFIG_UPDATED)

    async def get_schedule(_: web.Request) -> web.StreamResponse:
        return rd_json(model.config.schedule_json(model.schedulers.schedulers_v2()))

    async def post_schedule(request: web.Request) -> web.StreamResponse:
        data = await request.read()
        try:
            body = loads(data)
        except BodySyntaxError as exc:
            raise JSONError(400, exc.msg) from None
        if not isinstance(body, dict):
            body = {} if body is None else _not_an_object(body, "config.ScheduleConfig")
        try:
            model.config.merge_schedule(body)
        except ConfigTypeError as exc:
            raise InputError(exc.text, exc.data) from None
        except ConfigError as exc:
            raise JSONError(500, exc.text) from None
        return ok_message(CONFIG_UPDATED)

    async def get_replicate(_: web.Request) -> web.StreamResponse:
        return rd_json(model.config.replication_json())

    async def post_replicate(request: web.Request) -> web.StreamResponse:
        body = await read_object(request)
        try:
            model.config.merge_replication(body)
        except ConfigTypeError as exc:
            raise InputError(exc.text, exc.data) from None
        except ConfigDecodeError as exc:
            raise InputError(exc.text, {}) from None
        except ConfigError as exc:
            raise JSONError(500, exc.text) from None
        return ok_message(CONFIG_UPDATED)

    async def get_label_property(_: web.Request) -> web.StreamResponse:
        return rd_json(model.config.label_property)

    async def post_label_property(request: web.Request) -> web.StreamResponse:
        # PD reads the body into a map[string]string (``SetLabelPropertyConfig``).
        body = await read_object(request)
        for value in body.values():
            if not isinstance(value, str):
                kind = json_kind(value)
                raise InputError(
                    f"json: cannot unmarshal {kind} into Go value of type string",
                    {"Value": kind, "Type": {}, "Offset": 0, "Struct": "", "Field": ""},
                )
        action = body.get("action", "")
        typ, key, value = body.get("type", ""), body.get("label-key", ""), body.get("label-value", "")
        if action == "set":
            model.config.set_label_property(typ, key, value)
        elif action == "delete":
            model.config.delete_label_property(typ, key, value)
        else:
            raise JSONError(500, f"unknown action {action}")
        return ok_message(CONFIG_UPDATED)

    async def get_pd_server(_: web.Request) -> web.StreamResponse:
        return rd_json(_pd_server(ctx))

    async def get_cluster_version(_: web.Request) -> web.StreamResponse:
        return rd_json(model.config.cluster_version)

    async def post_cluster_version(request: web.Request) -> web.StreamResponse:
        body = await read_object(request)
        for value in body.values():
            if not isinstance(value, str):
                kind = json_kind(value)
                raise InputError(
                    f"json: cannot unmarshal {kind} into Go value of type string",
                    {"Value": kind, "Type": {}, "Offset": 0, "Struct": "", "Field": ""},
                )
        if "cluster-version" not in body:
            raise InputError("not set cluster-version", {})
        model.config.cluster_version = body["cluster-version"]
        return ok_message("The cluster version is updated.")

    return [
        Route(("GET",), "/health", health, needs_cluster=False),
        Route(("GET",), "/ping", ping, needs_cluster=False),
        Route(("GET",), "/members", members, needs_cluster=False),
        Route(("GET",), "/leader", leader, needs_cluster=False),
        Route(("GET",), "/version", version, needs_cluster=False),
        Route(("GET",), "/status", status, needs_cluster=False),
        Route(("GET",), "/cluster", cluster, needs_cluster=False),
        Route(("*",), "/cluster/status", cluster_status, needs_cluster=False),
        Route(("GET",), "/config", get_config, needs_cluster=False),
        Route(("POST",), "/config", post_config, needs_cluster=False),
        Route(("GET",), "/config/default", get_default_config, needs_cluster=False),
        Route(("GET",), "/config/schedule", get_schedule, needs_cluster=False),
        Route(("POST",), "/config/schedule", post_schedule, needs_cluster=False),
        Route(("GET",), "/config/replicate", get_replicate, needs_cluster=False),
        Route(("POST",), "/config/replicate", post_replicate, needs_cluster=False),
        Route(("GET",), "/config/pd-server", get_pd_server, needs_cluster=False),
        Route(("GET",), "/config/label-property", get_label_property, needs_cluster=False),
        Route(("POST",), "/config/label-property", post_label_property, needs_cluster=False),
        Route(("GET",), "/config/cluster-version", get_cluster_version, needs_cluster=False),
        Route(("POST",), "/config/cluster-version", post_cluster_version, needs_cluster=False),
    ]


def _not_an_object(value: Any, go_type: str) -> dict[str, Any]:
    kind = json_kind(value)
    raise InputError(
        f"json: cannot unmarshal {kind} into Go value of type {go_type}",
        {"Value": kind, "Type": {}, "Offset": 1, "Struct": "", "Field": ""},
    )


def _pd_server(ctx: ApiContext) -> dict[str, Any]:
    out = ctx.model.config.pd_server_json()
    if out.get("dashboard-address") == "auto" and ctx.model.members:
        out["dashboard-address"] = ctx.model.members[0].client_urls[0]
    return out


def full_config(ctx: ApiContext, config: PDConfig | None = None) -> dict[str, Any]:
    """``GET /config``: this member's own fields around the cluster-wide sections."""
    model = ctx.model
    config = model.config if config is None else config
    member = ctx.member
    client_url = member.client_urls[0]
    peer_url = member.peer_urls[0]
    schedulers = model.schedulers.schedulers_v2() if config is model.config else []
    pd_server = _pd_server(ctx) if config is model.config else config.pd_server_json()
    return {
        "client-urls": client_url,
        "peer-urls": peer_url,
        "advertise-client-urls": client_url,
        "advertise-peer-urls": peer_url,
        "name": member.name,
        "data-dir": f"/tidb-data/{member.name}",
        "force-new-cluster": False,
        "enable-grpc-gateway": True,
        "initial-cluster": ",".join(f"{m.name}={m.peer_urls[0]}" for m in model.members),
        "initial-cluster-state": "new",
        "initial-cluster-token": "pd-cluster",
        "join": "",
        "lease": 5,
        "max-concurrent-tso-proxy-streamings": 5000,
        "tso-proxy-recv-from-client-timeout": "1h0m0s",
        "tso-save-interval": "5s",
        "tso-update-physical-interval": "50ms",
        "enable-local-tso": False,
        "schedule": config.schedule_json(schedulers),
        "replication": config.replication_json(),
        "pd-server": pd_server,
        "cluster-version": config.cluster_version,
        "labels": {},
        "quota-backend-bytes": "8GiB",
        "auto-compaction-mode": "periodic",
        "auto-compaction-retention-v2": "1h",
        "tick-interval": "500ms",
        "election-interval": "3s",
        "enable-prevote": True,
        "max-request-bytes": 157286400,
        "label-property": config.label_property,
        "dashboard": {
            "tidb-cacert-path": "",
            "tidb-cert-path": "",
            "tidb-key-path": "",
            "public-path-prefix": "",
            "temp-dir": "",
            "internal-proxy": False,
            "enable-telemetry": False,
            "enable-experimental": False,
            "disable-custom-prom-addr": False,
        },
        "replication-mode": {
            "replication-mode": "majority",
            "dr-auto-sync": {
                "label-key": "",
                "primary": "",
                "dr": "",
                "primary-replicas": 0,
                "dr-replicas": 0,
                "wait-store-timeout": "1m0s",
                "wait-recover-timeout": "0s",
                "pause-region-split": "false",
            },
        },
        "micro-service": config.micro_service_json(),
    }
