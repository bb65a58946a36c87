"""The registry of the clusters one bot operates, built once by the composition root.

Without a clusters file (``TIKV_CHATOPS_CLUSTERS``) there is one cluster, named by
``TIKV_CHATOPS_CLUSTER``, at ``PD_URL`` (or the embedded simulator), with the global policy: the bot
is wired exactly as it was before several clusters existed. With the file (``bot.clusters_file``),
every cluster gets its own ``httpx.AsyncClient`` and ``PDClient`` (TLS and endpoints of its own,
closed by the stack that opened them), its own policy, and its own executor, ``Operations``,
reconciler and read views; ``actions.clusters.ClusterOperations`` routes every call to the cluster
it is about. Shared by all: the store, the notifier, the replica watch, the work limiter.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import httpx

from actions.clock import Clock
from actions.clusters import ClusterOperations
from actions.executor import Executor
from actions.leases import ReplicaWatch
from actions.operations import Operations
from actions.policy import Policy
from actions.ports import Notifier, ProposalStore
from actions.reconcile import Reconciler
from bot.clusters_file import ClustersConfig, ClusterSpec, ClusterTLS, read_clusters
from bot.metrics import Metrics
from bot.pdmetrics import pd_transport
from bot.reads import ClusterReads
from bot.settings import Settings
from pd.client import PDClient, build_http_client
from pd.cluster import PDCluster

logger = logging.getLogger(__name__)

# A PD request waits at most this long for a pooled connection. The work limiter and the pool's size
# keep that wait at zero in normal operation; a longer wait means the pool is stuck, and failing fast
# (PoolTimeout: nothing was sent) beats queueing behind it.
_PD_POOL_TIMEOUT = 2.0


def load_clusters(settings: Settings, policy: Policy, *, real_slack: bool = False) -> ClustersConfig | None:
    """The clusters file read strictly (``ClustersError`` names what is wrong), or None without one.

    Each cluster's policy is merged over ``policy``; with real Slack it fails closed like the global one.
    """
    if settings.tikv_chatops_clusters is None:
        return None
    config = read_clusters(settings.tikv_chatops_clusters, policy)
    if not real_slack:
        return config
    closed = []
    for spec in config.clusters:
        closed_policy = spec.policy.fail_closed()
        for gap in closed_policy.gaps():
            logger.warning("policy of cluster %s: %s", spec.name, gap)
        closed.append(ClusterSpec(spec.name, spec.pd_endpoints, closed_policy, spec.tls, spec.channel))
    return ClustersConfig(clusters=tuple(closed), default_cluster=config.default_cluster)


@dataclass(frozen=True)
class ClusterPD:
    """One cluster's PD as opened: its name, endpoints, client and policy."""

    name: str
    endpoints: tuple[str, ...]
    pd: PDClient
    cluster: PDCluster
    policy: Policy
    channel: str | None = None


async def open_pds(
    stack: AsyncExitStack,
    settings: Settings,
    metrics: Metrics,
    policy: Policy,
    config: ClustersConfig | None,
) -> list[ClusterPD]:
    """Every cluster's PD client, owned by ``stack``; the default cluster first."""
    if config is None:
        endpoints = settings.pd_endpoints
        if not endpoints:
            from pd.simulator.seeded import embedded_pd  # the simulator is only imported when it runs

            endpoints = await stack.enter_async_context(embedded_pd())
        tls = ClusterTLS(ca=settings.pd_cacert, cert=settings.pd_cert, key=settings.pd_key)
        pd = _pd_client(stack, settings, metrics, endpoints, tls, settings.tikv_chatops_cluster)
        return [ClusterPD(settings.tikv_chatops_cluster, endpoints, pd, PDCluster(pd), policy)]
    ordered = sorted(config.clusters, key=lambda c: c.name != config.default_cluster)
    opened = []
    for spec in ordered:
        pd = _pd_client(stack, settings, metrics, spec.pd_endpoints, spec.tls, spec.name)
        opened.append(ClusterPD(spec.name, spec.pd_endpoints, pd, PDCluster(pd), spec.policy, spec.channel))
    return opened


def _pd_client(
    stack: AsyncExitStack,
    settings: Settings,
    metrics: Metrics,
    endpoints: tuple[str, ...],
    tls: ClusterTLS,
    name: str,
) -> PDClient:
    http = build_http_client(
        timeout=settings.pd_timeout,
        transport=pd_transport(
            metrics,
            ca_path=tls.ca,
            cert_path=tls.cert,
            key_path=tls.key,
            limits=httpx.Limits(
                max_connections=settings.pd_max_connections,
                max_keepalive_connections=settings.pd_max_connections,
                keepalive_expiry=30.0,
            ),
            cluster=name,
        ),
    )
    http.timeout = httpx.Timeout(settings.pd_timeout, pool=min(settings.pd_timeout, _PD_POOL_TIMEOUT))
    stack.push_async_callback(http.aclose)
    return PDClient(http, endpoints)


@dataclass(frozen=True)
class ClusterRuntime:
    """Everything that acts on one cluster."""

    pd: ClusterPD
    executor: Executor
    operations: Operations
    reconciler: Reconciler
    reads: ClusterReads

    @property
    def name(self) -> str:
        return self.pd.name


@dataclass(frozen=True)
class ClusterRegistry:
    """The clusters the bot operates; ``runtimes[0]`` is the default cluster."""

    runtimes: tuple[ClusterRuntime, ...]
    several: bool  # a clusters file is in use (even with one cluster in it)
    channel_clusters: dict[str, str] = field(default_factory=dict)

    @property
    def default(self) -> ClusterRuntime:
        return self.runtimes[0]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.runtimes)

    @property
    def operations(self) -> Operations | ClusterOperations:
        """What the listeners call: the one cluster's ``Operations``, or the router over them all."""
        if not self.several:
            return self.default.operations
        return ClusterOperations({r.name: r.operations for r in self.runtimes}, default=self.default.name)

    def reads(self) -> dict[str, ClusterReads]:
        """Each cluster's read views by name (empty with one cluster: ``Services.reads`` is it)."""
        return {r.name: r.reads for r in self.runtimes} if self.several else {}

    @property
    def approver_groups(self) -> frozenset[str]:
        """Every cluster policy's approver groups (identity looks up who is in them)."""
        groups: frozenset[str] = frozenset()
        for runtime in self.runtimes:
            groups |= runtime.operations.policy.approvers.groups
        return groups

    async def aclose(self) -> None:
        for runtime in self.runtimes:
            await runtime.executor.aclose()


def build_registry(
    pds: list[ClusterPD],
    *,
    config: ClustersConfig | None,
    settings: Settings,
    store: ProposalStore,
    notifier: Notifier,
    clock: Clock,
    replicas: ReplicaWatch | None = None,
) -> ClusterRegistry:
    """One executor, ``Operations``, reconciler and read view per cluster; ``replicas``: which replicas
    are alive (docs/replicas.md), None for one process alone."""
    runtimes = []
    for opened in pds:
        executor = Executor(
            opened.cluster,
            store,
            notifier,
            clock,
            poll_interval=settings.operator_poll_seconds,
            operator_timeout=settings.operator_follow_seconds,
            drain_timeout=settings.offline_follow_seconds,
            cluster_name=opened.name,
            replica=settings.replica,
        )
        operations = Operations(
            opened.cluster, store, notifier, opened.policy, executor, clock, cluster_name=opened.name
        )
        reconciler = Reconciler(
            opened.cluster,
            store,
            notifier,
            executor,
            opened.policy,
            clock,
            operations=operations,
            replicas=replicas,
        )
        reads = ClusterReads(opened.pd, store, timeout=settings.pd_timeout)
        runtimes.append(ClusterRuntime(opened, executor, operations, reconciler, reads))
    return ClusterRegistry(
        tuple(runtimes),
        several=config is not None,
        channel_clusters=config.channel_defaults() if config is not None else {},
    )
