"""Which store to open: ``open_store_at(url)`` reads ``TIKV_CHATOPS_DB``'s value.

A ``postgresql://`` (or ``postgres://``) URL opens the PostgreSQL store (``store.postgres``), for
replicas sharing one database; anything else is the path of the SQLite file (the default,
``tikv-chatops.db``), as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from store.sqlite import SqliteProposalStore, open_store

if TYPE_CHECKING:
    from store.postgres import PostgresProposalStore

AnyStore: TypeAlias = "SqliteProposalStore | PostgresProposalStore"
"""Either store: they offer the same methods, leases included."""

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(url: str) -> bool:
    return url.lower().startswith(_POSTGRES_SCHEMES)


async def open_store_at(url: str) -> AnyStore:
    """Open (creating and migrating as needed) the store ``url`` names."""
    if is_postgres_url(url):
        from store.postgres import open_postgres_store  # asyncpg is loaded only by those who use it

        return await open_postgres_store(url)
    return await open_store(url)
