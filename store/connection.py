"""The store's one aiosqlite connection, and the one way work reaches it: a whole transaction per call.

aiosqlite runs every call on the connection's own worker thread, one call at a time. Awaiting each
statement separately would cost one thread hop (~80 µs measured here) per statement and, worse,
would let a cancelled coroutine stop between two awaits with its transaction still open on the
shared connection. So every store operation is a plain function over the ``sqlite3.Connection``
that runs from ``BEGIN`` to ``COMMIT`` (or ``ROLLBACK``) inside a single call on that thread:

- transactions never interleave, because the thread runs one call at a time (this is what an
  ``asyncio.Lock`` around multi-await transactions would give, without the cancellation hole);
- a caller cancelled while waiting cannot cut a transaction in half: it completes or rolls back;
- a durable append costs one hop plus one fsync of the WAL.

aiosqlite has no public "run this callable on your thread"; ``Connection._execute`` is what each of
its public methods is built on (present from 0.17 through 0.22). It is used here and nowhere else.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import aiosqlite

from store.errors import StoreError, is_unavailable, translate
from store.migrate import Migration, apply_migrations, require_current

_P = ParamSpec("_P")
_T = TypeVar("_T")

logger = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 5.0
"""Seconds a writer waits for another connection's lock before ``StoreUnavailable``."""


@contextmanager
def transaction(conn: sqlite3.Connection, *, write: bool = True) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` (or a read snapshot) … ``COMMIT``; ``ROLLBACK`` on any exception.

    ``IMMEDIATE`` takes the write lock up front, so the reads a write transaction makes cannot be
    invalidated by another process before it commits.
    """
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                # SQLite already rolled back (it does on some I/O errors); nothing was committed.
                logger.warning("ROLLBACK after a failed transaction failed", exc_info=True)
        raise


def _configure(conn: sqlite3.Connection, busy_ms: int, read_only: bool, migrations: list[Migration]) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    conn.execute("PRAGMA foreign_keys = ON")
    # FULL: with WAL, every COMMIT fsyncs the log, so an acknowledged audit row survives power loss.
    # NORMAL would only survive a crash of this process.
    conn.execute("PRAGMA synchronous = FULL")
    if read_only:
        require_current(conn, migrations)
        return
    mode = _switch_to_wal(conn, busy_ms / 1000)
    if mode not in ("wal", "memory"):
        raise StoreError(f"could not switch the database to WAL mode (it stayed in {mode!r} mode)")
    apply_migrations(conn, migrations)


def _switch_to_wal(conn: sqlite3.Connection, busy_timeout: float) -> str:
    """``PRAGMA journal_mode = WAL``, tried again until ``busy_timeout`` while another connection holds
    the file: two processes opening a new database at once race for the lock this switch needs, and
    SQLite answers "database is locked" at once there instead of calling the busy handler."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if not is_unavailable(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


def _read_only_uri(path: str) -> str:
    # as_uri percent-escapes the characters (? # %) that would otherwise end the file name.
    return PurePath(os.path.abspath(path)).as_uri() + "?mode=ro"


class Database:
    """An open aiosqlite connection with the store's pragmas and schema."""

    def __init__(self, conn: aiosqlite.Connection, *, path: str, busy_timeout: float) -> None:
        self._conn = conn
        self.path = path
        self.busy_timeout = busy_timeout
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        read_only: bool = False,
        migrations: list[Migration],
    ) -> Database:
        """Connect, set WAL / ``synchronous=FULL`` / foreign keys / busy timeout, and migrate.

        ``read_only`` opens an existing database without writing to it (no migrations; it must be
        current already).
        """
        target, uri = path, False
        if read_only:
            if path == ":memory:":
                raise ValueError("an in-memory database cannot be opened read-only")
            target, uri = _read_only_uri(path), True
        conn = aiosqlite.connect(target, isolation_level=None, timeout=busy_timeout, uri=uri)
        try:
            await conn
        except sqlite3.Error as exc:
            raise translate(exc, doing=f"open the database at {path}", busy_timeout=busy_timeout) from exc
        db = cls(conn, path=path, busy_timeout=busy_timeout)
        try:
            await db.run("open the database", _configure, int(busy_timeout * 1000), read_only, migrations)
        except BaseException:
            await db.close()
            raise
        return db

    async def run(
        self,
        doing: str,
        fn: Callable[Concatenate[sqlite3.Connection, _P], _T],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        """Run ``fn(conn, *args, **kwargs)`` on the connection's thread; ``doing`` names it in errors.

        ``sqlite3`` errors become ``StoreError`` / ``StoreUnavailable``; the store's and the domain's
        own exceptions pass through unchanged.
        """
        if self._closed:
            raise StoreError(f"could not {doing}: the store is closed")
        raw: sqlite3.Connection = self._conn._conn
        submit = cast(Callable[..., Any], self._conn._execute)
        try:
            return cast(_T, await submit(fn, raw, *args, **kwargs))
        except sqlite3.Error as exc:
            raise translate(exc, doing=doing, busy_timeout=self.busy_timeout) from exc

    async def close(self) -> None:
        """Close the connection after every call already queued on it has finished. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._conn.close()
