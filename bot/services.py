"""What the listeners need, built once by the composition root and passed to ``register_listeners``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from actions.clusters import ClusterOperations
from actions.models import Actor
from actions.operations import Operations
from bot.identity import RequestOrigin
from bot.metrics import Metrics
from bot.reads import ClusterReads
from bot.work import WorkLimiter


class Identity(Protocol):
    """Turns a Slack user id (and the team the request came through) into an Actor; raises
    ``bot.errors.IdentityRefused``."""

    async def actor(self, user_id: str, origin: RequestOrigin | None = None) -> Actor: ...


@dataclass(frozen=True, slots=True)
class Services:
    """The domain facade, the read views, identity, metrics, the work limiter and a few edge settings."""

    operations: Operations | ClusterOperations
    reads: ClusterReads
    identity: Identity
    metrics: Metrics
    work: WorkLimiter
    cluster_name: str = "default"
    dry_run_ephemeral: bool = False
    # Several clusters (TIKV_CHATOPS_CLUSTERS): each one's reads by name, and channel -> its default
    # cluster; ``cluster_name`` is then the cluster of a channel that is no cluster's default.
    cluster_reads: Mapping[str, ClusterReads] = field(default_factory=dict)
    channel_clusters: Mapping[str, str] = field(default_factory=dict)

    def cluster_of(self, channel: str | None) -> str:
        """The cluster a command typed in ``channel`` is about when it has no ``-c``."""
        return self.channel_clusters.get(channel or "", self.cluster_name)

    @property
    def known_clusters(self) -> tuple[str, ...]:
        return tuple(self.cluster_reads) or (self.cluster_name,)

    def reads_of(self, cluster: str) -> ClusterReads:
        return self.cluster_reads.get(cluster, self.reads)
