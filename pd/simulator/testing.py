"""Helpers for tests that speak HTTP to the simulator or to a recorded PD.

* ``Backend`` bundles an ``httpx.AsyncClient`` with the ids a check should use on that PD;
* ``simulator_facts`` picks those ids from a generated model;
* ``RecordedPD`` replays PD's response fixtures through ``httpx.MockTransport``: each
  ``Recorded`` entry answers requests matching method, path, query and JSON body with its
  answers in order (the last one repeats), and any request the recording lacks fails the test.

The fixture files themselves stay with the tests; ``RecordedPD`` is given their directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pd.simulator.http_util import DATA_CONTENT_TYPE, JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE
from pd.simulator.model import ClusterModel
from pd.simulator.server import SimulatorServer

__all__ = [
    "DATA_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "TEXT_CONTENT_TYPE",
    "Answer",
    "Backend",
    "Recorded",
    "RecordedPD",
    "simulator_facts",
]


@dataclass
class Backend:
    """A PD to run contract checks against, plus the ids the checks should use on it."""

    kind: str
    client: httpx.AsyncClient
    region: int  # a healthy, fully replicated region
    leader_store: int  # the store of its leader
    follower_store: int  # a store with a voter of it that is not the leader
    foreign_store: int  # a store holding no peer of it
    quiet_region: int  # a region that never had an operator
    read_region: int  # a region to GET
    non_adjacent: tuple[int, int]  # two regions that do not touch
    missing_region: int = 999
    missing_store: int = 99
    model: ClusterModel | None = None
    server: SimulatorServer | None = None

    def sim(self) -> tuple[ClusterModel, SimulatorServer]:
        """The simulator behind this backend (simulator-only checks)."""
        assert self.model is not None and self.server is not None, f"{self.kind} is not the simulator"
        return self.model, self.server


def simulator_facts(model: ClusterModel) -> dict[str, Any]:
    """The ``Backend`` ids for a generated model: a middle region, its stores, a quiet region…"""
    regions = list(model.regions_in_order())
    region = regions[len(regions) // 2]
    assert region.leader is not None
    leader = region.leader.store_id
    follower = next(p.store_id for p in region.peers if p.store_id != leader)
    foreign = next(s for s in sorted(model.stores) if region.peer_on(s) is None)
    quiet = next(r.id for r in regions if r.id != region.id)
    return {
        "region": region.id,
        "leader_store": leader,
        "follower_store": follower,
        "foreign_store": foreign,
        "quiet_region": quiet,
        "read_region": region.id,
        "non_adjacent": (regions[0].id, regions[-1].id),
    }


@dataclass(frozen=True)
class Answer:
    """One recorded response: status, the fixture file holding the body, and headers."""

    status: int
    fixture: str
    content_type: str = JSON_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    """Requests matching ``method``, ``path``, ``query`` and ``body`` get ``answers`` in order."""

    method: str
    path: str
    answers: list[Answer]
    body: Any = None  # parsed JSON to compare, raw bytes, or None for "any body"
    query: dict[str, str] | None = None  # None: the request must have no query
    served: int = 0

    def matches(self, request: httpx.Request) -> bool:
        """True when this entry records ``request``."""
        if request.method != self.method or request.url.path != self.path:
            return False
        if dict(request.url.params) != (self.query or {}):
            return False
        if self.body is None:
            return True
        if isinstance(self.body, bytes):
            return request.content == self.body
        try:
            return bool(json.loads(request.content) == self.body)
        except ValueError:
            return False


class RecordedPD:
    """A recorded PD session replayed from fixture files."""

    def __init__(self, entries: list[Recorded], fixture_dir: Path) -> None:
        self.entries = entries
        self.fixture_dir = fixture_dir

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The ``MockTransport`` handler."""
        for entry in self.entries:
            if entry.matches(request):
                answer = entry.answers[min(entry.served, len(entry.answers) - 1)]
                entry.served += 1
                body = (self.fixture_dir / answer.fixture).read_bytes()
                headers = {"Content-Type": answer.content_type, **answer.headers}
                return httpx.Response(answer.status, content=body, headers=headers)
        raise AssertionError(
            f"the recorded PD has no answer for {request.method} {request.url} {request.content!r}"
        )

    def transport(self) -> httpx.MockTransport:
        """An ``httpx`` transport answering from the recording."""
        return httpx.MockTransport(self.handle)
