"""No PD read is made as a coroutine that nobody awaits when the read is cancelled early.

``tests/e2e/test_e2e_embedded.py`` once failed on a busy machine with "coroutine PDClient.get_health
was never awaited": ``asyncio.gather`` was handed wrappers holding coroutines made up front, and when
the gather was cancelled before its tasks had started (the job stopped, a timeout, the bot shutting
down) the wrappers were closed unstarted and the coroutines inside them dropped. Here the timing is
made exact: the reader runs up to its ``gather`` and is cancelled before any of its tasks starts.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from actions.observe import ClusterObserver
from agent.observe import observe
from bot.reads import ClusterReads
from pd.client import PDClient
from pd.cluster import PDCluster
from pd.observer import PDObserver


class NeverCalledPD:
    """Every PDClient read, as a coroutine function that must never actually run here."""

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if not name.startswith("get_"):
            raise AttributeError(name)

        async def read(*_args: Any, **_kwargs: Any) -> Any:
            raise AssertionError(f"{name} ran: the read was supposed to be cancelled first")

        read.__qualname__ = f"PDClient.{name}"
        return read


async def _cancelled_at_its_gather(start: Callable[[], Awaitable[Any]]) -> list[str]:
    """Start ``start()``, let it run to its first suspension (its gather's tasks made, none started),
    cancel it, and return the "never awaited" warnings that followed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = asyncio.ensure_future(start())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gc.collect()
    return [str(w.message) for w in caught if "never awaited" in str(w.message)]


async def test_status_cancelled_before_its_reads_start_drops_no_coroutine() -> None:
    pd = cast(PDClient, NeverCalledPD())
    reads = ClusterReads(pd, cast(Any, None), timeout=5)
    assert await _cancelled_at_its_gather(reads.status) == []


async def test_pd_health_cancelled_before_its_reads_start_drops_no_coroutine() -> None:
    cluster = PDCluster(cast(PDClient, NeverCalledPD()))
    assert await _cancelled_at_its_gather(cluster.health) == []


async def test_the_agent_observation_cancelled_before_its_reads_start_drops_no_coroutine() -> None:
    from datetime import UTC, datetime

    observer = cast(ClusterObserver, PDObserver(cast(PDClient, NeverCalledPD())))
    started = await _cancelled_at_its_gather(lambda: observe(observer, at=datetime.now(UTC), top_n=5))
    assert started == []
