"""Counts for the gauges ``/metrics`` shows, kept by the store rather than recounted from the rows.

Every change of a proposal's state is written together with its ``events`` row (``from_state`` →
``to_state``; a new proposal's ``from_state`` is NULL), and ``events`` is append-only with increasing
ids. So the counts are computed once with ``SELECT cluster, state, COUNT(*) … GROUP BY 1, 2`` and from
then on brought up to date from the events written since (``id > last``), in one read snapshot: a scrape
costs a lookup of the few newest events, whatever the number of proposals. (A full count walks the
state index: some 25 ms at a hundred thousand proposals on a busy machine.)
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from actions.models import ProposalState
from store.connection import transaction

ClusterState = tuple[str, ProposalState]

# A proposal's cluster is in its request (never changed by an edit); rows from before clusters had
# names count as "default", the name a bot without a clusters file serves.
_CLUSTER = "COALESCE(json_extract({table}request_json, '$.cluster'), 'default')"


@dataclass
class ClusterTally:
    """The counts per (cluster, state) as of event ``last_event`` (``counts`` is None before the first
    full count)."""

    counts: dict[ClusterState, int] | None = None
    last_event: int = 0
    full_counts: int = field(default=0)  # how many times every row was counted (tests look)


def cluster_counts(conn: sqlite3.Connection, tally: ClusterTally) -> dict[ClusterState, int]:
    """How many proposals of each cluster are in each state (every state of a cluster seen, zero or
    not); counted once, then brought up to date from the events written since; updates ``tally``."""
    with transaction(conn, write=False):
        last = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0])
        if tally.counts is None or last < tally.last_event:
            counts: dict[ClusterState, int] = {}
            query = f"SELECT {_CLUSTER.format(table='')}, state, COUNT(*) FROM proposals GROUP BY 1, 2"
            for cluster, state, count in conn.execute(query):
                counts[(str(cluster), ProposalState(state))] = int(count)
            tally.full_counts += 1
        else:
            counts = dict(tally.counts)
            changes = conn.execute(
                f"SELECT {_CLUSTER.format(table='p.')}, e.from_state, e.to_state, COUNT(*)"
                " FROM events e JOIN proposals p ON p.id = e.proposal_id WHERE e.id > ? AND e.id <= ?"
                " GROUP BY 1, 2, 3",
                (tally.last_event, last),
            )
            for cluster, before, after, count in changes:
                if before is not None:
                    key = (str(cluster), ProposalState(before))
                    counts[key] = counts.get(key, 0) - int(count)
                key = (str(cluster), ProposalState(after))
                counts[key] = counts.get(key, 0) + int(count)
    for cluster in {c for c, _ in counts}:
        for state in ProposalState:
            counts.setdefault((cluster, state), 0)
    tally.counts, tally.last_event = counts, last
    return dict(counts)


def ping(conn: sqlite3.Connection) -> None:
    """The cheapest query there is: the connection answers."""
    conn.execute("SELECT 1").fetchone()
