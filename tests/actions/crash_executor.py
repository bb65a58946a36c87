"""Child process of test_crash_recovery: run one approved proposal with the real executor, then hang.

    python tests/actions/crash_executor.py PD_URL DB_PATH PROPOSAL_ID {before-send|after-send} NOW

``NOW`` (ISO 8601) is the parent's clock, so both sides record the same time.

The cluster it uses is the real ``PDCluster`` over ``PDClient``, wrapped so that the write stalls
just before it leaves (``before-send``) or just after PD answered it (``after-send``). It then prints
``READY <stage>`` and waits forever: the parent kills it with SIGKILL at exactly that point, after
the intent row is committed and before the result is.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Any

import httpx

from actions.executor import Executor
from actions.models import ActionResult, PDRequest, Proposal
from actions.ports import CardRef
from pd.client import PDClient
from pd.cluster import PDCluster
from store.sqlite import open_store


class StallingCluster(PDCluster):
    """``PDCluster`` whose one write stalls forever at the chosen stage."""

    def __init__(self, client: PDClient, stage: str) -> None:
        super().__init__(client)
        self.stage = stage

    async def send(self, request: PDRequest, *, caller_id: str) -> Any:
        if self.stage == "before-send":
            await self._stall()
        response = await super().send(request, caller_id=caller_id)
        await self._stall()
        return response

    async def _stall(self) -> None:
        print(f"READY {self.stage}", flush=True)
        await asyncio.Event().wait()


class SilentNotifier:
    """Nobody to tell in the child."""

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        return None

    async def update(self, proposal: Proposal) -> None:
        return None

    async def progress(self, proposal: Proposal, text: str) -> None:
        return None

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        return None


async def main(pd_url: str, db_path: str, proposal_id: int, stage: str, now: datetime) -> None:
    store = await open_store(db_path)
    async with httpx.AsyncClient(timeout=5.0) as http:
        cluster = StallingCluster(PDClient(http, [pd_url]), stage)
        executor = Executor(cluster, store, SilentNotifier(), lambda: now)
        proposal = await store.get_proposal(proposal_id)
        assert proposal is not None
        await executor.execute(proposal, actor="U0ALICE")
    raise SystemExit("the stalled write returned; the parent should have killed this process")


if __name__ == "__main__":
    url, path, pid, stage_name, at = sys.argv[1:6]
    asyncio.run(main(url, path, int(pid), stage_name, datetime.fromisoformat(at)))
