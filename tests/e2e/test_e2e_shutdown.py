"""Shutting down: this replica says it is alive until nothing of it can still claim or follow a proposal."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.executor import Executor
from actions.leases import heartbeat_lease
from bot.main import running
from bot.settings import Settings
from bot.work import WorkLimiter


async def test_the_heartbeat_is_given_up_only_after_the_work_queue_and_the_executors_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another replica settles a gone replica's claims; while a job accepted before SIGTERM may still
    claim or follow one, its heartbeat must stand, or the other replica would settle it mid-write."""
    said: list[str] = []
    close_work, close_executor = WorkLimiter.aclose, Executor.aclose

    async def work_closed(self: WorkLimiter) -> None:
        await close_work(self)
        said.append("work closed")

    async def executor_closed(self: Executor) -> None:
        await close_executor(self)
        said.append("executor closed")

    monkeypatch.setattr(WorkLimiter, "aclose", work_closed)
    monkeypatch.setattr(Executor, "aclose", executor_closed)
    settings = Settings.load(
        {
            "HOST": "127.0.0.1",
            "PORT": "0",
            "METRICS_PORT": "0",
            "PLAYGROUND_PORT": "0",
            "AGENT_ENABLED": "false",
            "TIKV_CHATOPS_DB": str(tmp_path / "x.db"),
        }
    )
    async with running(settings) as bot:
        store = bot.store
        release = store.release_lease

        async def released(name: str, *, owner: str) -> None:
            said.append(f"released {name}")
            await release(name, owner=owner)

        store.release_lease = released  # type: ignore[method-assign]
    heartbeat = f"released {heartbeat_lease(settings.replica)}"
    assert heartbeat in said and "work closed" in said and "executor closed" in said
    assert said.index("work closed") < said.index(heartbeat)
    assert said.index("executor closed") < said.index(heartbeat)
