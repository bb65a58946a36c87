"""What the listeners need, built once by the composition root and passed to ``register_listeners``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from actions.models import Actor
from actions.service import Operations
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

    operations: Operations
    reads: ClusterReads
    identity: Identity
    metrics: Metrics
    work: WorkLimiter
    cluster_name: str = "default"
    dry_run_ephemeral: bool = False
