"""This process's leases: one ``LeaseKeeper`` per loop that must run on one replica at a time.

The composition root asks for a keeper per lease (``keep``) and runs it as a background task; whether
this replica holds each lease is exported as ``tikv_chatops_lease_held{lease}`` (1 or 0) on /metrics,
so an operator (and the end-to-end tests) can see which replica runs the agent. docs/replicas.md.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from prometheus_client import Gauge

from actions.clock import Clock
from actions.leases import LeaseKeeper, ReplicaWatch, Work
from actions.ports import LeaseStore
from bot.metrics import Metrics


class Leases:
    """The keepers of one replica, by lease name."""

    def __init__(
        self, store: LeaseStore, *, replica: str, ttl: float, clock: Clock, metrics: Metrics
    ) -> None:
        self._store = store
        self.replica = replica
        self.ttl = timedelta(seconds=ttl)
        self._clock = clock
        self.keepers: dict[str, LeaseKeeper] = {}
        self._held = Gauge(
            "tikv_chatops_lease_held",
            "1 while this replica holds the lease (and runs its work), else 0",
            ["lease"],
            registry=metrics.registry,
        )
        self.watch = ReplicaWatch(store, me=replica, ttl=self.ttl, clock=clock, known_dead=local_process_gone)

    def keep(self, name: str, work: Work | None = None) -> LeaseKeeper:
        """A keeper for ``name`` running ``work`` while it holds the lease (not started yet)."""
        keeper = LeaseKeeper(
            self._store, name, owner=self.replica, ttl=self.ttl, clock=self._clock, work=work
        )
        self.keepers[name] = keeper
        self._held.labels(name).set_function(lambda: 1.0 if keeper.holding else 0.0)
        return keeper


def local_process_gone(replica: str) -> bool:
    """Whether ``replica`` is a default id (``hostname-pid``) of this host whose process is gone.

    A bot restarted on the same host after a crash then settles what the crashed process left at once,
    instead of waiting for its heartbeat to lapse. Any doubt (another host, an id set by hand, a pid
    that exists, even if reused) answers False, and the heartbeat decides.
    """
    host, _, pid = replica.rpartition("-")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's process, say)
        return False
    return False
