"""Time for the simulator: the wall clock when served, a hand-driven clock in tests.

Everything time-dependent in the model (heartbeat age, operator steps, paused schedulers,
operator records' ten-minute memory) reads ``Clock.now()``, so a test can age a store by an
hour without sleeping.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time as Unix seconds (float)."""

    def now(self) -> float:
        """Return the current time in Unix seconds."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Return ``time.time()``."""
        return time.time()


class ManualClock:
    """A clock that only moves when told to; starts at a fixed, realistic instant."""

    # 2026-08-21 07:00:00 UTC, the instant the PD fixtures were written around.
    DEFAULT_START = 1_787_295_600.0

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = start

    def now(self) -> float:
        """Return the time set so far."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        """Jump to ``when`` (Unix seconds); it may not be earlier than now."""
        if when < self._now:
            raise ValueError("a clock cannot go backwards")
        self._now = when
