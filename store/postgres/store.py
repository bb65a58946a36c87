"""``PostgresProposalStore``: the ``actions.ports.ProposalStore`` port (and everything else the bot asks
of ``SqliteProposalStore``) on PostgreSQL, through an asyncpg pool.

Open it with ``await open_postgres_store(dsn)``; it migrates the schema (``store/postgres/migrations``)
under an advisory lock, so replicas starting together are fine. Each method is one transaction
(``store.postgres.db``), committed with ``synchronous_commit = on`` before it returns. The guarantees,
and how each is kept with several writers at once, are in docs/postgres.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg

from actions.models import (
    FINISHED,
    ActionApproval,
    ActionRequest,
    ActionResult,
    AuditEntry,
    Decision,
    PreflightReport,
    Proposal,
    ProposalEdit,
    ProposalState,
    Ticket,
    Tier,
)
from actions.ports import ApprovalOutcome, AuditQuery, Lease, ProposalEvent
from store import audit as sqlite_audit
from store import chain, counts
from store.group_commit import AuditAppender
from store.outbox import SlackDebt, SlackDebtKind
from store.postgres import audit, misc, proposals
from store.postgres.db import PgDatabase, redact
from store.sqlite import _require_positive

if TYPE_CHECKING:
    from actions.ports import LeaseStore, ProposalStore


class PostgresProposalStore:
    """Durable proposals, approvals, transitions, the audit log, tickets, the Slack outbox and leases
    in one PostgreSQL database that several bot processes may share.

    Errors are those of ``SqliteProposalStore``: ``StoreError`` (``StoreUnavailable`` when the database
    cannot be used), ``ProposalNotFound`` and ``ValueError`` in the same places.
    """

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self._appender = AuditAppender(write=self._append_rows)
        self._cluster_tally = counts.ClusterTally()

    @property
    def path(self) -> str:
        """Where the data lives, for logs and messages (the DSN without its password)."""
        return redact(self._db.dsn)

    async def _append_rows(self, rows: list[sqlite_audit.PreparedRow]) -> list[int]:
        return await self._db.run("append to the audit log", audit.insert_all, rows)

    async def aclose(self) -> None:
        await self._appender.aclose()
        await self._db.close()

    # --- proposals ----------------------------------------------------------------------------

    async def create_proposal(
        self,
        *,
        request: ActionRequest,
        tier: Tier,
        approvals_required: int,
        preflight: PreflightReport,
        expires_at: datetime,
        now: datetime,
        channel: str | None = None,
        undo_of: int | None = None,
        revert_at: datetime | None = None,
    ) -> Proposal:
        _require_positive("approvals_required", approvals_required)
        return await self._db.run(
            "create a proposal",
            proposals.create,
            request=request,
            tier=tier,
            approvals_required=approvals_required,
            preflight=preflight,
            expires_at=expires_at,
            now=now,
            channel=channel,
            undo_of=undo_of,
            revert_at=revert_at,
        )

    async def get_proposal(self, proposal_id: int) -> Proposal | None:
        return await self._db.read(f"read proposal {proposal_id}", proposals.get, proposal_id)

    async def list_proposals(
        self, *, states: Sequence[ProposalState] | None = None, ticket_id: int | None = None, limit: int = 50
    ) -> list[Proposal]:
        _require_positive("limit", limit)
        return await self._db.read(
            "list proposals", proposals.list_, states=states, ticket_id=ticket_id, limit=limit
        )

    async def set_card(self, proposal_id: int, *, channel: str, message_ts: str) -> None:
        await self._db.run(
            f"record proposal {proposal_id}'s card",
            proposals.set_card,
            proposal_id,
            channel=channel,
            message_ts=message_ts,
        )

    # --- decisions and transitions ------------------------------------------------------------

    async def add_approval(self, approval: ActionApproval, *, required: int) -> ApprovalOutcome:
        if approval.decision is not Decision.APPROVE:
            raise ValueError("add_approval takes approvals; a rejection goes through reject()")
        _require_positive("required", required)
        return await self._db.run(
            f"record an approval of proposal {approval.proposal_id}",
            proposals.add_approval,
            approval,
            required=required,
        )

    async def reject(self, rejection: ActionApproval) -> bool:
        if rejection.decision is not Decision.REJECT:
            raise ValueError("reject takes a rejection; an approval goes through add_approval()")
        return await self._db.run(f"reject proposal {rejection.proposal_id}", proposals.reject, rejection)

    async def transition(
        self,
        proposal_id: int,
        *,
        expected: ProposalState,
        new: ProposalState,
        actor: str,
        now: datetime,
        revision: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        if expected is new:
            raise ValueError(f"a transition must change the state; both are {new}")
        return await self._db.run(
            f"move proposal {proposal_id} from {expected} to {new}",
            proposals.transition,
            proposal_id,
            expected=expected,
            new=new,
            actor=actor,
            now=now,
            revision=revision,
            detail=detail,
        )

    async def revise(
        self,
        proposal_id: int,
        *,
        expected_revision: int,
        request: ActionRequest,
        preflight: PreflightReport,
        expires_at: datetime,
        actor: str,
        now: datetime,
        tier: Tier | None = None,
        approvals_required: int | None = None,
        edit: ProposalEdit | None = None,
    ) -> Proposal | None:
        if approvals_required is not None:
            _require_positive("approvals_required", approvals_required)
        return await self._db.run(
            f"revise proposal {proposal_id}",
            proposals.revise,
            proposal_id,
            expected_revision=expected_revision,
            request=request,
            preflight=preflight,
            expires_at=expires_at,
            actor=actor,
            now=now,
            tier=tier,
            approvals_required=approvals_required,
            edit=edit,
        )

    async def claim_for_execution(self, proposal_id: int, *, intent: AuditEntry, now: datetime) -> int | None:
        if intent.proposal_id not in (None, proposal_id):
            raise ValueError(f"the intent names proposal {intent.proposal_id}, not {proposal_id}")
        return await self._db.run(
            f"claim proposal {proposal_id} for execution",
            proposals.claim_for_execution,
            proposal_id,
            intent=intent,
            now=now,
        )

    async def finish_execution(
        self, proposal_id: int, *, log_id: int, result: ActionResult, now: datetime
    ) -> bool:
        if result.state not in FINISHED:
            raise ValueError(f"an execution ends in {', '.join(FINISHED)}, not {result.state}")
        return await self._db.run(
            f"record proposal {proposal_id}'s result",
            proposals.finish_execution,
            proposal_id,
            log_id=log_id,
            result=result,
            now=now,
        )

    async def update_result(self, proposal_id: int, *, log_id: int, result: ActionResult) -> None:
        await self._db.run(
            f"update proposal {proposal_id}'s result",
            proposals.update_result,
            proposal_id,
            log_id=log_id,
            result=result,
        )

    async def expire_due(self, *, now: datetime) -> list[Proposal]:
        return await self._db.run("expire proposals", proposals.expire_due, now=now)

    async def events(self, proposal_id: int) -> list[ProposalEvent]:
        return await self._db.read(f"read proposal {proposal_id}'s events", proposals.events, proposal_id)

    # --- audit ----------------------------------------------------------------------------------

    async def log_entry(self, entry: AuditEntry) -> int:
        """Append an action_log row; returns its id once it is committed (group commit, as SQLite's)."""
        return await self._appender.append(sqlite_audit.prepare(entry))

    async def query_audit(self, query: AuditQuery) -> list[AuditEntry]:
        _require_positive("limit", query.limit)
        return await self._db.read("query the audit log", audit.query, query)

    async def iter_audit(
        self, *, since: datetime | None = None, batch_size: int = 500
    ) -> AsyncIterator[AuditEntry]:
        _require_positive("batch_size", batch_size)
        after = 0
        while True:
            batch = await self._db.read(
                "read the audit log", audit.page, after_id=after, since=since, size=batch_size
            )
            for entry in batch:
                yield entry
            if len(batch) < batch_size:
                return
            assert batch[-1].id is not None
            after = batch[-1].id

    async def verify_audit(self) -> chain.Verdict:
        return await self._db.read("verify the audit log", audit.verify)

    async def remember_actor(self, actor: str, name: str, *, now: datetime) -> None:
        await self._db.run(f"remember {actor}'s name", audit.remember_actor, actor, name, now=now)

    # --- tickets --------------------------------------------------------------------------------

    async def note_delivery(self, keys: Sequence[str], *, now: datetime, window: timedelta) -> bool:
        if not keys:
            raise ValueError("a delivery is remembered under at least one key")
        return await self._db.run(
            "note a Slack delivery", proposals.note_delivery, list(keys), now=now, keep_after=now - window
        )

    async def open_ticket(
        self, *, key: str, title: str, detail: dict[str, Any], now: datetime
    ) -> tuple[Ticket, bool]:
        return await self._db.run(
            f"open a ticket for {key!r}", misc.open_ticket, key=key, title=title, detail=detail, now=now
        )

    async def list_open_tickets(self) -> list[Ticket]:
        return await self._db.read("list open tickets", misc.list_open_tickets)

    async def close_ticket(self, ticket_id: int, *, now: datetime) -> None:
        await self._db.run(f"close ticket {ticket_id}", misc.close_ticket, ticket_id, now=now)

    # --- the Slack outbox ------------------------------------------------------------------------

    async def owe_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, channel: str | None, error: str, now: datetime
    ) -> SlackDebt:
        return await self._db.run(
            f"record that Slack is owed proposal {proposal_id}'s {kind}",
            misc.owe,
            proposal_id,
            kind,
            channel=channel,
            error=error,
            now=now,
        )

    async def slack_owed(self, *, limit: int = 100, proposal_id: int | None = None) -> list[SlackDebt]:
        _require_positive("limit", limit)
        return await self._db.read("read the Slack outbox", misc.owed, limit=limit, proposal_id=proposal_id)

    async def claim_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, now: datetime, stale_before: datetime
    ) -> SlackDebt | None:
        return await self._db.run(
            f"claim proposal {proposal_id}'s Slack {kind}",
            misc.claim,
            proposal_id,
            kind,
            now=now,
            stale_before=stale_before,
        )

    async def release_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, error: str, now: datetime
    ) -> None:
        await self._db.run(
            f"release proposal {proposal_id}'s Slack {kind}",
            misc.release,
            proposal_id,
            kind,
            error=error,
            now=now,
        )

    async def settle_slack(self, proposal_id: int, kind: SlackDebtKind, *, generation: int) -> bool:
        return await self._db.run(
            f"settle proposal {proposal_id}'s Slack {kind}",
            misc.settle,
            proposal_id,
            kind,
            generation=generation,
        )

    async def forget_slack(self, proposal_id: int, kind: SlackDebtKind) -> None:
        await self._db.run(f"drop proposal {proposal_id}'s Slack {kind}", misc.forget, proposal_id, kind)

    async def slack_owed_counts(self) -> dict[SlackDebtKind, int]:
        return await self._db.read("count the Slack outbox", misc.outbox_counts)

    async def cluster_proposal_counts(self) -> dict[tuple[str, ProposalState], int]:
        """How many proposals of each cluster are in each state (``store.counts.cluster_counts``)."""
        return await self._db.read(
            "count proposals by cluster and state", misc.cluster_counts, self._cluster_tally
        )

    async def ping(self) -> None:
        await self._db.read("read the database", _ping)

    # --- leases (work one replica at a time does) --------------------------------------------------

    async def acquire_lease(self, name: str, *, owner: str, ttl: timedelta, now: datetime) -> Lease | None:
        """Take or renew ``name`` for ``owner``; None while another owner holds an unexpired lease."""
        return await self._db.run(
            f"take the {name!r} lease", misc.acquire_lease, name, owner=owner, ttl=ttl, now=now
        )

    async def release_lease(self, name: str, *, owner: str) -> None:
        await self._db.run(f"release the {name!r} lease", misc.release_lease, name, owner=owner)


async def _ping(conn: asyncpg.Connection) -> None:
    await conn.fetchval("SELECT 1")


async def open_postgres_store(
    dsn: str, *, max_connections: int = 10, migrate: bool = True
) -> PostgresProposalStore:
    """Connect to ``dsn`` (``postgresql://…``) and migrate; ``migrate=False`` requires a current schema."""
    db = await PgDatabase.open(dsn, max_size=max_connections, migrate=migrate)
    return PostgresProposalStore(db)


if TYPE_CHECKING:
    _conforms: type[ProposalStore] = PostgresProposalStore
    _leases: type[LeaseStore] = PostgresProposalStore


async def verify_at(dsn: str) -> chain.Verdict:
    """Walk the audit chain of the database at ``dsn`` (which must be migrated already)."""
    store = await open_postgres_store(dsn, max_connections=1, migrate=False)
    try:
        return await store.verify_audit()
    finally:
        await store.aclose()
