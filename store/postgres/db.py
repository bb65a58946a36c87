"""The PostgreSQL store's connection pool, and the one way work reaches it: a whole transaction per call.

``PgDatabase.run(doing, fn, …)`` takes a pooled connection, runs ``await fn(conn, …)`` inside one
transaction (READ COMMITTED, or a read-only REPEATABLE READ snapshot for reads that must agree with
themselves) and commits before it returns; ``synchronous_commit`` is forced on for the session, so a
commit has reached the server's disk (and its synchronous standbys, if any) when ``run`` returns.
Any exception rolls the whole transaction back. A deadlock or serialization failure (another
transaction got in the way and PostgreSQL chose this one to give up) is retried a few times, since
nothing of it was written; asyncpg and server errors become ``StoreError`` / ``StoreUnavailable``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Concatenate, ParamSpec, TypeVar

import asyncpg

from store.codec import to_db_time
from store.errors import MigrationError, StoreError, StoreUnavailable
from store.migrate import Migration, check, load_migrations

_P = ParamSpec("_P")
_T = TypeVar("_T")

logger = logging.getLogger(__name__)

_ROLLED_BACK = "the transaction was rolled back and nothing was half-written"
_RETRIED = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
# Classes that say the server cannot be used right now, not that a statement is wrong: connection
# exceptions, insufficient resources, operator intervention (shutdown), system and internal errors.
_UNAVAILABLE_CLASSES = ("08", "53", "57", "58", "XX")
_MIGRATION_LOCK = 0x74696B76  # pg_advisory_xact_lock key serialising migrations ("tikv")
_ATTEMPTS = 5

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


def postgres_migrations() -> list[Migration]:
    """The files in ``store/postgres/migrations``, checked and sorted like SQLite's."""
    return load_migrations(resources.files("store.postgres.migrations"))


def redact(dsn: str) -> str:
    """The DSN without its password, for messages."""
    head, sep, tail = dsn.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return dsn
    scheme, _, credentials = head.partition("//")
    user = credentials.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"


def translate(exc: BaseException, *, doing: str) -> StoreError:
    """The store's error for an asyncpg / connection error raised while ``doing``."""
    state = str(getattr(exc, "sqlstate", "") or "")
    if (
        isinstance(exc, OSError | asyncio.TimeoutError | asyncpg.InterfaceError)
        or isinstance(exc, asyncpg.InternalClientError)
        or isinstance(exc, asyncpg.PostgresConnectionError)
        or state.startswith(_UNAVAILABLE_CLASSES)
        or state in _RETRIED
    ):
        return StoreUnavailable(f"could not {doing}: the database could not be used ({exc}); {_ROLLED_BACK}")
    return StoreError(f"could not {doing}: the database refused it ({exc}); {_ROLLED_BACK}")


def _is_database_error(exc: BaseException) -> bool:
    # InternalClientError: asyncpg's protocol state on a connection the server closed under it.
    return isinstance(
        exc,
        asyncpg.PostgresError
        | asyncpg.InterfaceError
        | asyncpg.InternalClientError
        | OSError
        | asyncio.TimeoutError,
    )


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Durable before the person is told: a commit waits for the WAL flush, whatever the server default.
    await conn.execute("SET synchronous_commit = on; SET TIME ZONE 'UTC'")


class PgDatabase:
    """An asyncpg pool with the store's session settings and schema."""

    def __init__(self, pool: asyncpg.Pool, *, dsn: str) -> None:
        self._pool = pool
        self.dsn = dsn
        self._closed = False

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
        migrate: bool = True,
    ) -> PgDatabase:
        """Connect a pool to ``dsn`` and apply pending migrations (serialised across processes)."""
        try:
            pool = await asyncpg.create_pool(
                dsn, min_size=min_size, max_size=max_size, timeout=connect_timeout, init=_init_connection
            )
        except Exception as exc:
            if _is_database_error(exc):
                raise translate(exc, doing=f"open the database at {redact(dsn)}") from exc
            raise
        db = cls(pool, dsn=dsn)
        try:
            if migrate:
                await db.migrate(postgres_migrations())
            else:
                await db.require_current(postgres_migrations())
        except BaseException:
            await db.close()
            raise
        return db

    async def run(
        self,
        doing: str,
        fn: Callable[Concatenate[asyncpg.Connection, _P], Awaitable[_T]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        """``await fn(conn, *args, **kwargs)`` in one READ COMMITTED transaction; see the module doc."""
        return await self._run(doing, fn, None, *args, **kwargs)

    async def read(
        self,
        doing: str,
        fn: Callable[Concatenate[asyncpg.Connection, _P], Awaitable[_T]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        """``run`` in a read-only REPEATABLE READ transaction: every statement sees one snapshot."""
        return await self._run(doing, fn, "repeatable_read", *args, **kwargs)

    async def _run(
        self, doing: str, fn: Callable[..., Awaitable[_T]], isolation: str | None, *args: Any, **kwargs: Any
    ) -> _T:
        if self._closed:
            raise StoreError(f"could not {doing}: the store is closed")
        for attempt in range(1, _ATTEMPTS + 1):
            began = False
            try:
                async with self._pool.acquire() as conn:
                    if isolation is None:
                        transaction = conn.transaction()
                    else:
                        transaction = conn.transaction(isolation=isolation, readonly=True)
                    async with transaction:
                        began = True
                        return await fn(conn, *args, **kwargs)
            except Exception as exc:
                if not _is_database_error(exc):
                    raise  # the store's and the domain's own exceptions pass through unchanged
                # Retried only when nothing of ``fn`` can have reached the server: a pooled connection
                # that the server dropped while idle fails at BEGIN; the pool then opens a new one.
                retry = str(getattr(exc, "sqlstate", "")) in _RETRIED or not began
                if retry and attempt < _ATTEMPTS:
                    logger.info("retrying %s after %s (attempt %d)", doing, exc, attempt)
                    await asyncio.sleep(0.005 * attempt)
                    continue
                raise translate(exc, doing=doing) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def migrate(self, known: list[Migration], *, now: datetime | None = None) -> list[int]:
        """Apply pending migrations in one transaction, under an advisory lock so that replicas
        starting together apply each once; returns the versions applied."""

        async def apply(conn: asyncpg.Connection) -> list[int]:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(_BOOTSTRAP)
            done = {r["version"]: r["checksum"] for r in await conn.fetch("SELECT * FROM schema_migrations")}
            versions: list[int] = []
            for migration in check(known, done):
                try:
                    async with conn.transaction():  # a savepoint: name the migration that failed
                        await conn.execute(migration.sql)
                except asyncpg.PostgresError as exc:
                    raise MigrationError(
                        f"migration {migration.label} failed ({exc}); it was rolled back and the database "
                        f"is still at schema version {migration.version - 1}"
                    ) from exc
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                    " VALUES ($1, $2, $3, $4)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                    to_db_time(now or datetime.now(UTC)),
                )
                versions.append(migration.version)
            return versions

        return await self.run("migrate the database", apply)

    async def require_current(self, known: list[Migration]) -> None:
        async def pending(conn: asyncpg.Connection) -> list[Migration]:
            exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            rows = await conn.fetch("SELECT version, checksum FROM schema_migrations") if exists else []
            return check(known, {r["version"]: r["checksum"] for r in rows})

        missing = await self.run("read the schema version", pending)
        if missing:
            raise MigrationError(f"the database needs migration {missing[0].label} before it can be used")

    async def close(self) -> None:
        """Close the pool once the calls already running on it have finished. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._pool.close()
