"""Counts for the gauges ``/metrics`` shows, computed by SQLite rather than by loading rows.

``GROUP BY state`` walks the ``proposals_by_state_expiry`` index (state first), so a count of every
state reads no proposal and costs a few milliseconds at a hundred thousand proposals.
"""

from __future__ import annotations

import sqlite3

from actions.models import ProposalState


def proposal_counts(conn: sqlite3.Connection) -> dict[ProposalState, int]:
    """How many proposals are in each state (zero for a state none is in)."""
    counts = dict.fromkeys(ProposalState, 0)
    for state, count in conn.execute("SELECT state, COUNT(*) FROM proposals GROUP BY state"):
        counts[ProposalState(state)] = int(count)
    return counts


def ping(conn: sqlite3.Connection) -> None:
    """The cheapest query there is: the connection answers."""
    conn.execute("SELECT 1").fetchone()
