"""``GET /healthz``: can the bot reach PD, and can it read its database?"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from actions.errors import ClusterError
from actions.ports import Cluster, ProposalStore

logger = logging.getLogger(__name__)


class Health:
    """Checks PD (its leader and members) and the store, each within ``timeout`` seconds."""

    def __init__(self, cluster: Cluster, store: ProposalStore, *, timeout: float = 2.0) -> None:
        self._cluster = cluster
        self._store = store
        self._timeout = timeout

    async def __call__(self) -> dict[str, Any]:
        pd, db = await asyncio.gather(self._pd(), self._db())
        return {"ok": bool(pd["ok"] and db["ok"]), "pd": pd, "db": db}

    async def _pd(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                health = await self._cluster.health()
        except TimeoutError:
            return {"ok": False, "error": f"PD did not answer within {self._timeout:g}s"}
        except ClusterError as exc:
            return {"ok": False, "error": str(exc)}
        return {
            "ok": health.ok,
            "leader": health.leader,
            "members": health.members,
            "healthy_members": health.healthy_members,
        }

    async def _db(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                await self._store.list_proposals(limit=1)
        except TimeoutError:
            return {"ok": False, "error": f"the database did not answer within {self._timeout:g}s"}
        except Exception as exc:
            logger.exception("the health check could not read the database")
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True}
