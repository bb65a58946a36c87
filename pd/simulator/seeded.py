"""The demo cluster: what ``tikv-chatops serve`` runs in-process when no ``PD_URL`` is set.

A simulator seeded with problems, served on free local ports (``embedded_pd``). It ships with the
simulator in ``tikv-chatops-demo``, so the bot's own wheel holds nothing that imports the simulator.

The seed gives the agent and a person trying the playground something real to look at: one store
leading far more regions than the others because someone paused balance-leader-scheduler and forgot
it (the agent proposes resuming it), and one store that has been down for an hour, past
max-store-down-time, whose regions still miss a replica (it has to be taken offline and replaced).
It also makes the README's examples true as written: region 12 exists, is led from the imbalanced
store and has a healthy voter on store 3 that may take its leader (``/tikv transfer-leader 12 3``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pd.simulator import ClusterModel, SimulatorServer

logger = logging.getLogger(__name__)

STORES = 5
REGIONS = 200
SEED = 1
IMBALANCED_STORE = 1
DOWN_STORE = 5
PAUSED_SCHEDULER = "balance-leader-scheduler"
PAUSED_FOR = 7 * 24 * 3600  # seconds: "forgotten"

# The README's example region and the store it names; region ids start at FIRST_ID, one every four ids.
README_REGION = 12
README_STORE = 3
FIRST_ID = 8
# A drain at a pace people can watch in the playground: replacements started per minute.
DRAIN_PER_MINUTE = 60.0


def _readme_region(model: ClusterModel) -> None:
    """Region 12: voters on stores 1, 2 and 3, led from store 1, nothing on the store that goes down."""
    region = model.region(README_REGION)
    wanted = (IMBALANCED_STORE, 2, README_STORE)
    for store_id in wanted:
        if region.peer_on(store_id) is None:
            model.add_peer(README_REGION, store_id)
    model.set_leader(README_REGION, IMBALANCED_STORE)
    for store_id in [s for s in region.store_ids if s not in wanted]:
        model.remove_peer(README_REGION, store_id)


def seeded_model(*, step_delay: float = 0.5) -> ClusterModel:
    """Five stores: store 1 leads half the regions while balance-leader is paused; store 5 down an hour."""
    model = ClusterModel.generate(STORES, REGIONS, SEED, step_delay=step_delay, first_id=FIRST_ID)
    _readme_region(model)
    model.make_leader_imbalance(IMBALANCED_STORE, share=0.5)
    model.schedulers.pause(PAUSED_SCHEDULER, PAUSED_FOR)
    model.fail_store(DOWN_STORE, down_for=3600.0)
    model.drain_per_minute = DRAIN_PER_MINUTE
    return model


@asynccontextmanager
async def embedded_pd(*, step_delay: float = 0.5) -> AsyncIterator[tuple[str, ...]]:
    """Serve the seeded simulator on free local ports; yields every PD member's URL."""
    async with SimulatorServer(seeded_model(step_delay=step_delay), tick_interval=0.25) as server:
        logger.info(
            "embedded PD simulator on %s: store %s leads half the regions (%s paused), store %s is down",
            ", ".join(server.urls),
            IMBALANCED_STORE,
            PAUSED_SCHEDULER,
            DOWN_STORE,
        )
        yield tuple(server.urls)
