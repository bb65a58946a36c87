"""Fault knobs for tests: make PD slow, leaderless, flaky, silent, or take a member away.

All knobs are plain attributes or methods, shared by every member's port::

    faults.no_leader = True          # proxied requests: 503 "redirect finds no leader"
    faults.slow_seconds = 2.0        # every answer is delayed
    faults.error_500_rate = 0.3      # 30 % of requests: 500 "redirect failed"
    faults.fail_next(2)              # the next two requests: 500 "redirect failed"
    faults.hang = True               # requests wait (unanswered) until hang is set back to False
    faults.member_down("pd-1")       # that member's port closes; a new PD leader is elected
    faults.clear()                   # everything back to normal
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

MemberListener = Callable[[str, bool], None]


class Faults:
    """Injected misbehaviour, consulted by the HTTP layer on every request."""

    def __init__(self, seed: int = 0) -> None:
        self.no_leader = False
        self.slow_seconds = 0.0
        self.error_500_rate = 0.0
        self.hang = False
        self._fail_next = 0
        self._down: set[str] = set()
        self._rng = random.Random(seed)
        self._listeners: list[MemberListener] = []

    def fail_next(self, n: int = 1) -> None:
        """Answer the next ``n`` requests (on any member) with 500 ``redirect failed``."""
        self._fail_next += n

    def take_failure(self) -> bool:
        """Consume one forced failure, or roll ``error_500_rate``; True means answer 500."""
        if self._fail_next > 0:
            self._fail_next -= 1
            return True
        return self.error_500_rate > 0 and self._rng.random() < self.error_500_rate

    def member_down(self, name: str) -> None:
        """Take a PD member away: its port stops answering (and, when served, stops listening)."""
        if name not in self._down:
            self._down.add(name)
            for listener in list(self._listeners):
                listener(name, True)

    def member_up(self, name: str) -> None:
        """Bring a member back."""
        if name in self._down:
            self._down.discard(name)
            for listener in list(self._listeners):
                listener(name, False)

    def is_down(self, name: str) -> bool:
        """True while ``member_down(name)`` is in effect."""
        return name in self._down

    @property
    def down_members(self) -> frozenset[str]:
        """Members currently down."""
        return frozenset(self._down)

    def subscribe(self, listener: MemberListener) -> None:
        """Call ``listener(name, down)`` whenever a member goes down or comes back."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: MemberListener) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def clear(self) -> None:
        """Reset every knob and bring all members back."""
        self.no_leader = False
        self.slow_seconds = 0.0
        self.error_500_rate = 0.0
        self.hang = False
        self._fail_next = 0
        for name in sorted(self._down):
            self.member_up(name)

    async def wait_while_hung(self) -> None:
        """Hold a request for as long as ``hang`` is set."""
        # Polling, not an Event: the knob is a plain attribute and may be flipped from any loop.
        while self.hang:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
