"""The operations listener on ``METRICS_PORT``: ``/livez``, ``/readyz`` and ``/metrics``, apart from Slack's.

The Slack-facing port serves only ``/slack/events``; these are for the cluster the bot runs in
(Kubernetes probes, Prometheus) and are bound on their own port so they need not face the internet.
They follow Kubernetes' habit:

    GET /livez     200 while the process answers at all (nothing is checked: a restart would not help)
    GET /readyz    200 when the store is open, PD answered the last probe and Slack accepted the
                   bot token at start; 503 with the reasons otherwise
    GET /metrics   Prometheus' text format

No hit does real work: ``Readiness.run`` probes PD and the store every ``interval`` seconds in the
background and ``/readyz`` reads what it found; ``/metrics`` counts proposals with one
``GROUP BY`` (``store.counts``), never by loading them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from aiohttp import web

from actions.errors import ClusterError
from actions.models import ProposalState
from actions.ports import Cluster
from bot.metrics import CONTENT_TYPE, Metrics
from store.outbox import SlackDebtKind

logger = logging.getLogger(__name__)

LIVE_PATH = "/livez"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"

SlackAuth = Callable[[], Awaitable[Any]]
"""Asks Slack whether the bot token is good (``auth.test``); raises when it is not."""


class CountingStore(Protocol):
    """What the operations listener reads from the store."""

    async def ping(self) -> None: ...

    async def cluster_proposal_counts(self) -> dict[tuple[str, ProposalState], int]: ...

    async def slack_owed_counts(self) -> dict[SlackDebtKind, int]: ...


class Readiness:
    """The last probe of PD, the store and Slack, refreshed by ``run`` and read by ``/readyz``.

    Until the first probe has finished everything is "not probed yet" (not ready). Slack's auth is
    asked until it succeeds once; PD and the store every ``interval`` seconds, each bounded by
    ``timeout`` seconds. ``others``: the other clusters of a clusters file, by name; their PDs are
    probed and shown under ``clusters`` but do not decide readiness, so one cluster's PD outage does
    not take the bot out of its load balancer for the rest (docs/multi-cluster.md).
    """

    def __init__(
        self,
        cluster: Cluster,
        store: CountingStore,
        *,
        slack_auth: SlackAuth | None,
        interval: float = 5.0,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        others: Mapping[str, Cluster] | None = None,
    ) -> None:
        self._cluster = cluster
        self._others = dict(others or {})
        self._other_pds: dict[str, dict[str, Any]] = {
            name: {"ok": False, "error": "not probed yet"} for name in self._others
        }
        self._store = store
        self._slack_auth = slack_auth
        self._interval = interval
        self._timeout = timeout
        self._clock = clock
        self._pd: dict[str, Any] = {"ok": False, "error": "not probed yet"}
        self._db: dict[str, Any] = {"ok": False, "error": "not probed yet"}
        self._slack: dict[str, Any] = (
            {"ok": True, "skipped": "not asked"}
            if slack_auth is None
            else {"ok": False, "error": "not probed yet"}
        )
        self._probed_at: float | None = None
        self.probes = 0  # how many probes have finished (tests wait on it)

    def report(self) -> dict[str, Any]:
        """What the last probe found; no I/O."""
        age = None if self._probed_at is None else round(self._clock() - self._probed_at, 3)
        ok = bool(self._pd["ok"] and self._db["ok"] and self._slack["ok"])
        report = {"ok": ok, "pd": self._pd, "db": self._db, "slack": self._slack, "age_seconds": age}
        if self._other_pds:
            report["clusters"] = dict(self._other_pds)
        return report

    async def probe(self) -> None:
        """Probe PD and the store (and Slack until it once accepted the token) and keep the results."""
        names = list(self._others)
        pd, db, *others = await asyncio.gather(
            self._probe_pd(self._cluster),
            self._probe_db(),
            *(self._probe_pd(self._others[name]) for name in names),
        )
        self._pd, self._db = pd, db
        self._other_pds = dict(zip(names, others, strict=True))
        if not self._slack["ok"] and self._slack_auth is not None:
            self._slack = await self._probe_slack(self._slack_auth)
        self._probed_at = self._clock()
        self.probes += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Probe now, then every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.probe()
            except Exception:
                logger.exception("the readiness probe failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await stop.wait()

    async def _probe_pd(self, cluster: Cluster) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                health = await cluster.health()
        except TimeoutError:
            return {"ok": False, "error": f"PD did not answer within {self._timeout:g}s"}
        except ClusterError as exc:
            return {"ok": False, "error": str(exc)}
        return {
            "ok": health.ok,
            "leader": health.leader,
            "members": health.members,
            "healthy_members": health.healthy_members,
        }

    async def _probe_db(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                await self._store.ping()
        except TimeoutError:
            return {"ok": False, "error": f"the database did not answer within {self._timeout:g}s"}
        except Exception as exc:
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True}

    async def _probe_slack(self, auth: SlackAuth) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                await auth()
        except TimeoutError:
            return {"ok": False, "error": f"Slack did not answer within {self._timeout:g}s"}
        except Exception as exc:
            # slack_sdk's errors name the API error (invalid_auth…); never the token.
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True}


async def refresh_gauges(metrics: Metrics, store: CountingStore, clusters: Sequence[str] = ()) -> None:
    """Set the proposal and Slack-outbox gauges from counts the store computes; every state of each of
    ``clusters`` (the ones configured) is shown, zero when none of its proposals is in it."""
    found = await store.cluster_proposal_counts()
    for cluster in clusters:
        for state in ProposalState:
            found.setdefault((cluster, state), 0)
    for (cluster, state), count in found.items():
        metrics.proposals.labels(cluster, state.value).set(count)
    for kind, owed in (await store.slack_owed_counts()).items():
        metrics.slack_owed.labels(kind.value).set(owed)


def build_ops_app(
    metrics: Metrics, store: CountingStore, readiness: Readiness, *, clusters: Sequence[str] = ()
) -> web.Application:
    """The operations application: ``/livez``, ``/readyz`` and ``/metrics`` (GET only)."""
    app = web.Application()

    async def livez(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_request: web.Request) -> web.Response:
        report = readiness.report()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def scrape(_request: web.Request) -> web.Response:
        try:
            await refresh_gauges(metrics, store, clusters)
        except Exception as exc:
            # A scrape still answers with what the process knows.
            logger.warning("refreshing the proposal gauges failed: %s", type(exc).__name__)
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get(LIVE_PATH, livez)
    app.router.add_get(READY_PATH, readyz)
    app.router.add_get(METRICS_PATH, scrape)
    return app
