"""The store on PostgreSQL (asyncpg), for several bot processes sharing one database.

``open_postgres_store(dsn)`` returns a ``PostgresProposalStore``; ``store.backend.open_store_at(url)``
picks it for a ``postgresql://`` URL. See docs/postgres.md.
"""

from __future__ import annotations

from store.postgres.store import PostgresProposalStore, open_postgres_store

__all__ = ["PostgresProposalStore", "open_postgres_store"]
