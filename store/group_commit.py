"""``AuditAppender``: audit rows written by many callers at once share one durable commit.

Every ``log_entry`` must be durable before it returns, and a durable commit costs an fsync of the
WAL. One caller at a time: its row is committed alone, at once (no waiting for company). Callers
that arrive while a commit is on its way to disk queue up, and the next commit takes all of them in
one transaction: the fsync is shared, each caller still returns only once its row is on disk.

A batch that fails is not allowed to fail rows that would have gone in alone: its rows are retried
one transaction each, so every caller gets its own row's outcome (a full disk fails them all anyway).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from actions.errors import StorageUnavailable
from store import audit
from store.audit import PreparedRow
from store.connection import Database
from store.errors import StoreError


class AuditAppender:
    """Group commit for ``action_log`` appends on one connection."""

    def __init__(
        self,
        db: Database | None = None,
        *,
        max_batch: int = 256,
        write: Callable[[list[PreparedRow]], Awaitable[list[int]]] | None = None,
    ) -> None:
        """Appends to ``db`` (SQLite), or through ``write``: rows in, their ids out, one durable
        transaction per call (the PostgreSQL store's)."""
        if (db is None) == (write is None):
            raise ValueError("an AuditAppender writes to a Database or through write(), not both")
        self._db = db
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[PreparedRow, asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None  # held: the loop keeps only weak references

    async def append(self, row: PreparedRow) -> int:
        """The row's id, once it is durable."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def aclose(self) -> None:
        """Wait until every row already handed in has its outcome (the store closes after this)."""
        if self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher})  # its outcome went to the callers, not to the closer

    async def _flush(self) -> None:
        batch: list[tuple[PreparedRow, asyncio.Future[int]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._commit(batch)
        except BaseException as exc:
            # Cancelled with its loop: nobody may wait for ever on a row whose fate is unknown.
            failure = StoreError(f"could not append to the audit log: {exc!r}")
            for _, future in batch + self._waiting:
                if not future.done():
                    future.set_exception(failure)
            self._waiting.clear()
            raise

    async def _append_many(self, rows: list[PreparedRow]) -> list[int]:
        if self._write is not None:
            return await self._write(rows)
        assert self._db is not None
        if len(rows) == 1:
            return [await self._db.run("append to the audit log", audit.append, rows[0])]
        return await self._db.run("append to the audit log", audit.append_many, rows)

    async def _commit(self, batch: list[tuple[PreparedRow, asyncio.Future[int]]]) -> None:
        if len(batch) > 1:
            rows = [row for row, _ in batch]
            try:
                ids = await self._append_many(rows)
            except StorageUnavailable as exc:
                # Locked or full for one row is locked or full for all: no second wait per row.
                _settle(batch, error=exc)
                return
            except Exception:
                pass  # a row the database refuses: each is retried alone below and gets its own outcome
            else:
                for item, log_id in zip(batch, ids, strict=True):
                    _settle([item], log_id=log_id)
                return
        for row, future in batch:
            try:
                log_id = (await self._append_many([row]))[0]
            except Exception as exc:  # handed to the caller that asked for this row
                _settle([(row, future)], error=exc)
            else:
                _settle([(row, future)], log_id=log_id)


def _settle(
    batch: list[tuple[PreparedRow, asyncio.Future[int]]],
    *,
    log_id: int | None = None,
    error: BaseException | None = None,
) -> None:
    for _, future in batch:
        if future.done():  # its caller was cancelled; the row's fate is what the database did
            continue
        if error is not None:
            future.set_exception(error)
        else:
            assert log_id is not None
            future.set_result(log_id)
