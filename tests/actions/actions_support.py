"""Test doubles for the action core's tests: a movable clock, a recording notifier, a counting cluster.

The cluster wrapper delegates to a real ``Cluster`` (the PD simulator through ``PDClient`` and
``PDCluster``); it only counts writes and can inject a fault around one, so the code under test
still talks to PD's real HTTP API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from actions.models import ActionResult, PDRequest, Proposal
from actions.ports import (
    CardRef,
    Cluster,
    ClusterHealth,
    OperatorSnapshot,
    RegionSnapshot,
    StoreSnapshot,
)

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class RecordingNotifier:
    """Records what people would have been told; ``fail=True`` makes every call raise."""

    fail: bool = False
    published: list[Proposal] = field(default_factory=list)
    updates: list[Proposal] = field(default_factory=list)
    progress_texts: list[tuple[int, str]] = field(default_factory=list)
    finished_results: list[tuple[Proposal, ActionResult]] = field(default_factory=list)

    def _maybe_fail(self) -> None:
        if self.fail:
            raise RuntimeError("slack is down")

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        self._maybe_fail()
        self.published.append(proposal)
        return CardRef(channel=channel or "C0OPS", message_ts=f"1700000000.{proposal.id:06d}")

    async def update(self, proposal: Proposal) -> None:
        self._maybe_fail()
        self.updates.append(proposal)

    async def progress(self, proposal: Proposal, text: str) -> None:
        self._maybe_fail()
        self.progress_texts.append((proposal.id, text))

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        self._maybe_fail()
        self.finished_results.append((proposal, result))


SendHook = Callable[[PDRequest], Awaitable[None]]


class CountingCluster:
    """A ``Cluster`` that counts ``send`` calls and may run hooks before or after the real send."""

    def __init__(self, inner: Cluster) -> None:
        self.inner = inner
        self.sent: list[tuple[PDRequest, str]] = []
        self.before_send: SendHook | None = None
        self.after_send: SendHook | None = None
        self.send_error: Exception | None = None  # raised instead of sending (nothing reaches PD)
        self.error_after_send: Exception | None = None  # raised after PD answered (a lost reply)
        self.operator_reads = 0

    async def send(self, request: PDRequest, *, caller_id: str) -> Any:
        self.sent.append((request, caller_id))
        if self.before_send is not None:
            await self.before_send(request)
        if self.send_error is not None:
            raise self.send_error
        response = await self.inner.send(request, caller_id=caller_id)
        if self.after_send is not None:
            await self.after_send(request)
        if self.error_after_send is not None:
            raise self.error_after_send
        return response

    async def health(self) -> ClusterHealth:
        return await self.inner.health()

    async def get_stores(self) -> list[StoreSnapshot]:
        return await self.inner.get_stores()

    async def get_store(self, store_id: int) -> StoreSnapshot | None:
        return await self.inner.get_store(store_id)

    async def get_region(self, region_id: int) -> RegionSnapshot | None:
        return await self.inner.get_region(region_id)

    async def get_operator(self, region_id: int) -> OperatorSnapshot | None:
        self.operator_reads += 1
        return await self.inner.get_operator(region_id)

    async def get_schedulers(self) -> list[str]:
        return await self.inner.get_schedulers()

    async def get_paused_schedulers(self) -> list[str]:
        return await self.inner.get_paused_schedulers()

    async def get_evict_leader_store_ids(self) -> list[int]:
        return await self.inner.get_evict_leader_store_ids()

    async def get_config(self) -> dict[str, Any]:
        return await self.inner.get_config()

    async def get_store_limits(self) -> dict[int, dict[str, float]]:
        return await self.inner.get_store_limits()


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 5.0) -> None:
    """Wait until ``check()`` is true (polling every 10 ms), or fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.01)
