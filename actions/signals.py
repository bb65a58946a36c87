"""In-process wake-ups for coroutines waiting on a proposal's decision.

A signal only says "look again": the state is always read from the store, so a missed or spurious
signal costs a little latency, never correctness, and a second replica that decides a proposal
without signalling us is caught by the waiter's timeout re-read.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict


class DecisionSignals:
    """Per-proposal ``asyncio.Event``s, set whenever something decides or moves a proposal."""

    def __init__(self) -> None:
        self._waiters: defaultdict[int, set[asyncio.Event]] = defaultdict(set)

    def subscribe(self, proposal_id: int) -> asyncio.Event:
        """An event that will be set on the next ``notify`` for ``proposal_id``.

        Subscribe *before* reading the store, so a decision landing between the read and the wait
        still wakes the waiter.
        """
        event = asyncio.Event()
        self._waiters[proposal_id].add(event)
        return event

    def unsubscribe(self, proposal_id: int, event: asyncio.Event) -> None:
        waiters = self._waiters.get(proposal_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._waiters[proposal_id]

    def notify(self, proposal_id: int) -> None:
        for event in self._waiters.pop(proposal_id, set()):
            event.set()
