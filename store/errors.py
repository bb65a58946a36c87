"""Errors of the store.

    StoreError              the database refused an operation (a constraint, a bad id, a closed store)
     ├── StoreUnavailable   the database could not be used: locked past the busy timeout, disk full,
     │                      I/O error, unreadable file; the transaction was rolled back
     └── MigrationError     the schema could not be brought to this code's version

Every transaction runs from BEGIN to COMMIT in one call and is rolled back on any error, so an
exception from the store always means nothing of that operation was written. Messages say what
happened and say so; ``str(exc)`` is safe to show to an operator.
"""

from __future__ import annotations

import sqlite3

from actions.errors import StorageUnavailable

# SQLite's primary result codes (the low byte of an extended code), from sqlite3.h.
_BUSY = 5
_LOCKED = 6
_NOMEM = 7
_READONLY = 8
_IOERR = 10
_CORRUPT = 11
_FULL = 13
_CANTOPEN = 14
_NOTADB = 26

_ROLLED_BACK = "the transaction was rolled back and nothing was half-written"


class StoreError(Exception):
    """Raised when the database refuses an operation for a reason other than availability."""


class StoreUnavailable(StoreError, StorageUnavailable):
    """Raised when the database is locked past the busy timeout, the disk is full or fails, or the
    file cannot be opened; nothing of the operation was written. It is the domain's
    ``StorageUnavailable``, as the ``ProposalStore`` port promises."""


class MigrationError(StoreError):
    """Raised when a schema migration is malformed, fails (and is rolled back), was edited after it
    was applied, or the database is newer than this code."""


def _unavailable_reason(code: int, busy_timeout: float) -> str | None:
    primary = code & 0xFF
    if primary in (_BUSY, _LOCKED):
        return f"the database stayed locked by another connection past the {busy_timeout:g} s busy timeout"
    return {
        _FULL: "the disk (or the database's size limit) is full",
        _IOERR: "the disk reported an I/O error",
        _CANTOPEN: "the database file could not be opened",
        _READONLY: "the database is read-only",
        _CORRUPT: "the database file is corrupt",
        _NOTADB: "the file is not an SQLite database",
        _NOMEM: "SQLite ran out of memory",
    }.get(primary)


def is_unavailable(exc: sqlite3.Error) -> bool:
    """True when ``exc`` says the database cannot be used right now, not that a statement is wrong."""
    return _unavailable_reason(getattr(exc, "sqlite_errorcode", -1), 0.0) is not None


def translate(exc: sqlite3.Error, *, doing: str, busy_timeout: float) -> StoreError:
    """The store's error for an ``sqlite3`` error raised while ``doing`` (e.g. "add approval")."""
    reason = _unavailable_reason(getattr(exc, "sqlite_errorcode", -1), busy_timeout)
    if reason is not None:
        return StoreUnavailable(f"could not {doing}: {reason} ({exc}); {_ROLLED_BACK}")
    return StoreError(f"could not {doing}: the database refused it ({exc}); {_ROLLED_BACK}")
