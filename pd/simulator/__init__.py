"""An in-memory PD that speaks PD's real HTTP API, for tests, the playground and benchmarks.

It stands alone (no import of the rest of ``pd``): every body is built here from PD's own
shapes, status codes and error texts (see docs/pd.md).

* ``ClusterModel`` — the cluster (stores, regions, members, config, operators, schedulers),
  with mutators to build topologies and ``tick()`` for PD's background work;
* ``SimulatorServer`` / ``serve`` — the model served over HTTP, one port per PD member;
* ``build_app`` — the aiohttp app of one member, for embedding;
* ``Faults`` — slow, leaderless, flaky, hanging or missing PD members;
* ``ManualClock`` — drive time by hand in tests.

Entry point: ``python -m pd.simulator --port 2379 --stores 5 --regions 1000 --seed 1``.
"""

from __future__ import annotations

from pd.simulator.app import build_app
from pd.simulator.clock import Clock, ManualClock, SystemClock
from pd.simulator.errors import PDFailure, SimulatorError, TopologyError
from pd.simulator.faults import Faults
from pd.simulator.model import ClusterModel
from pd.simulator.operators import Operator, OpStatus
from pd.simulator.server import SimulatorServer, serve
from pd.simulator.topology import Member, Peer, Region, Store

__all__ = [
    "Clock",
    "ClusterModel",
    "Faults",
    "ManualClock",
    "Member",
    "OpStatus",
    "Operator",
    "PDFailure",
    "Peer",
    "Region",
    "SimulatorError",
    "SimulatorServer",
    "Store",
    "SystemClock",
    "TopologyError",
    "build_app",
    "serve",
]
