"""The store: proposals, approvals, transitions, the audit log and tickets in SQLite (aiosqlite).

``SqliteProposalStore`` implements ``actions.ports.ProposalStore``. Open it with ``open_store(path)``
or ``connect_store(path)``; errors are ``store.errors.StoreError`` and its subclasses. The audit
export (``tikv-chatops audit export``) is ``store.export.export_main``.
"""

from __future__ import annotations

from store.errors import MigrationError, StoreError, StoreUnavailable
from store.sqlite import SqliteProposalStore, connect_store, open_store

__all__ = [
    "MigrationError",
    "SqliteProposalStore",
    "StoreError",
    "StoreUnavailable",
    "connect_store",
    "open_store",
]
