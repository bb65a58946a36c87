"""``SqliteProposalStore``: the ``actions.ports.ProposalStore`` port on one aiosqlite connection.

Open it with ``await open_store(path)`` (``":memory:"`` works) and close it with ``aclose()``, or use
``async with connect_store(path) as store``. Opening sets WAL, ``synchronous=FULL``, foreign keys and
a busy timeout, and applies pending migrations. Each method is one transaction run whole on the
connection's thread (``store.connection``); the SQL lives in ``store.proposals``, ``store.audit``,
``store.tickets`` and ``store.outbox`` (what Slack still has to be told).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

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
from store import audit, chain, counts, leases, outbox, proposals, tickets
from store.connection import DEFAULT_BUSY_TIMEOUT, Database
from store.group_commit import AuditAppender
from store.migrate import load_migrations
from store.outbox import SlackDebt, SlackDebtKind

if TYPE_CHECKING:
    from actions.ports import LeaseStore, ProposalStore


class SqliteProposalStore:
    """Durable proposals, approvals, transitions, the audit log and tickets in one SQLite file.

    Every transition is one guarded ``UPDATE … WHERE id = ? AND state = ? [AND revision = ?]``
    committed together with its ``events`` row, so double clicks, retries and a second process on
    the same file cannot move a proposal twice. Failures raise ``store.errors.StoreError``
    (``StoreUnavailable`` when the database cannot be used) and never leave half a transaction;
    an unknown proposal id raises ``actions.errors.ProposalNotFound`` where a method cannot simply
    answer False/None; arguments no caller should pass raise ``ValueError``.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._appender = AuditAppender(db)
        self._cluster_tally = counts.ClusterTally()

    @property
    def path(self) -> str:
        return self._db.path

    async def aclose(self) -> None:
        """Close the connection once the calls already made have finished; safe to call twice."""
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
        """A new pending proposal at revision 1, with its creation event (actor: the requester)."""
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
        return await self._db.run(f"read proposal {proposal_id}", proposals.get, proposal_id)

    async def list_proposals(
        self, *, states: Sequence[ProposalState] | None = None, ticket_id: int | None = None, limit: int = 50
    ) -> list[Proposal]:
        """Newest first; ``states=None`` means any state."""
        _require_positive("limit", limit)
        return await self._db.run(
            "list proposals", proposals.list_, states=states, ticket_id=ticket_id, limit=limit
        )

    async def set_card(self, proposal_id: int, *, channel: str, message_ts: str) -> None:
        """Remember where the proposal's card was posted (not a transition: no event)."""
        await self._db.run(
            f"record proposal {proposal_id}'s card",
            proposals.set_card,
            proposal_id,
            channel=channel,
            message_ts=message_ts,
        )

    # --- decisions and transitions ------------------------------------------------------------

    async def add_approval(self, approval: ActionApproval, *, required: int) -> ApprovalOutcome:
        """Insert the approval and, if it completes ``required`` distinct approvers, move the proposal
        pending -> approved, all in one transaction.

        DUPLICATE when this approver already decided this revision (checked first), STALE when the
        proposal is not pending at ``approval.revision``; both write nothing.
        """
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
        """Record a rejection and move pending -> rejected (guarded on state and revision)."""
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
        """Guarded move ``expected -> new``; False when another writer got there first (or no such id)."""
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
        """Edit: a new revision (approvals of older revisions no longer count); None if stale.

        ``tier`` / ``approvals_required``, when given, replace the stored ones (a re-assessed risk).
        ``edit`` says who made it and what it changed (kept with the proposal and in its events row).
        """
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
        """approved -> executing plus the "about to call PD" audit row, one transaction.
        Returns the action_log id, or None when another executor claimed it.

        The row's ``proposal_id`` is this proposal; a missing ``ticket_id`` is taken from the
        proposal and a missing ``approval_json`` from the decisions on its current revision.
        """
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
        """executing -> result.state plus the result on the audit row (``executed_at = now``), one
        transaction. False when the proposal is not executing."""
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
        """Refine a finished proposal's result (operator progress, verification) without a transition."""
        await self._db.run(
            f"update proposal {proposal_id}'s result",
            proposals.update_result,
            proposal_id,
            log_id=log_id,
            result=result,
        )

    async def expire_due(self, *, now: datetime) -> list[Proposal]:
        """pending -> expired for every proposal whose ``expires_at`` is before ``now``; returns them."""
        return await self._db.run("expire proposals", proposals.expire_due, now=now)

    async def events(self, proposal_id: int) -> list[ProposalEvent]:
        """The proposal's transitions, oldest first (creation has ``from_state=None``)."""
        return await self._db.run(f"read proposal {proposal_id}'s events", proposals.events, proposal_id)

    # --- audit ----------------------------------------------------------------------------------

    async def log_entry(self, entry: AuditEntry) -> int:
        """Append an action_log row (dry-runs, refusals, reverts); returns its id once it is durable."""
        return await self._appender.append(audit.prepare(entry))

    async def query_audit(self, query: AuditQuery) -> list[AuditEntry]:
        """Newest first; the filters that are set are combined with AND. A region or store matches
        any of the request's region/store parameters (``codec.REGION_KEYS`` / ``STORE_KEYS``)."""
        _require_positive("limit", query.limit)
        return await self._db.run("query the audit log", audit.query, query)

    async def iter_audit(
        self, *, since: datetime | None = None, batch_size: int = 500
    ) -> AsyncIterator[AuditEntry]:
        """Every audit row (created at or after ``since``), oldest first, read ``batch_size`` at a time
        so neither memory nor the connection is held for the whole log."""
        _require_positive("batch_size", batch_size)
        after = 0
        while True:
            batch = await self._db.run(
                "read the audit log", audit.page, after_id=after, since=since, size=batch_size
            )
            for entry in batch:
                yield entry
            if len(batch) < batch_size:
                return
            assert batch[-1].id is not None  # rows read back always have ids
            after = batch[-1].id

    async def verify_audit(self) -> chain.Verdict:
        """Walk the audit log's hash chain (``store.chain``)."""
        return await self._db.run("verify the audit log", chain.verify_db)

    async def remember_actor(self, actor: str, name: str, *, now: datetime) -> None:
        """Keep the display name Slack gave for ``actor``, so exports can say who it is."""
        await self._db.run(f"remember {actor}'s name", audit.remember_actor, actor, name, now=now)

    # --- tickets --------------------------------------------------------------------------------

    async def note_delivery(self, keys: Sequence[str], *, now: datetime, window: timedelta) -> bool:
        """Remember a delivery under ``keys``; False when one was already seen within ``window``."""
        if not keys:
            raise ValueError("a delivery is remembered under at least one key")
        return await self._db.run(
            "note a Slack delivery", proposals.note_delivery, list(keys), now=now, keep_after=now - window
        )

    async def open_ticket(
        self, *, key: str, title: str, detail: dict[str, Any], now: datetime
    ) -> tuple[Ticket, bool]:
        """The open ticket for ``key``, creating it if none is open; the bool says it was created."""
        return await self._db.run(
            f"open a ticket for {key!r}", tickets.open_ticket, key=key, title=title, detail=detail, now=now
        )

    async def list_open_tickets(self) -> list[Ticket]:
        return await self._db.run("list open tickets", tickets.list_open)

    async def close_ticket(self, ticket_id: int, *, now: datetime) -> None:
        """Close the ticket; closing a closed or unknown ticket changes nothing."""
        await self._db.run(f"close ticket {ticket_id}", tickets.close_ticket, ticket_id, now=now)

    # --- the Slack outbox ------------------------------------------------------------------------

    async def owe_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, channel: str | None, error: str, now: datetime
    ) -> SlackDebt:
        """Record that Slack still has to be told ``kind`` about the proposal (once per kind)."""
        return await self._db.run(
            f"record that Slack is owed proposal {proposal_id}'s {kind}",
            outbox.owe,
            proposal_id,
            kind,
            channel=channel,
            error=error,
            now=now,
        )

    async def slack_owed(self, *, limit: int = 100, proposal_id: int | None = None) -> list[SlackDebt]:
        """What Slack is owed: oldest proposal first, and per proposal card, update, result."""
        _require_positive("limit", limit)
        return await self._db.run("read the Slack outbox", outbox.owed, limit=limit, proposal_id=proposal_id)

    async def claim_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, now: datetime, stale_before: datetime
    ) -> SlackDebt | None:
        """Claim a debt before telling Slack; None when it is gone or claimed since ``stale_before``.
        A ``claimed_at`` on the debt returned means an earlier claim was abandoned mid-call."""
        return await self._db.run(
            f"claim proposal {proposal_id}'s Slack {kind}",
            outbox.claim,
            proposal_id,
            kind,
            now=now,
            stale_before=stale_before,
        )

    async def release_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, error: str, now: datetime
    ) -> None:
        """Slack failed again: unclaim the debt and count the attempt."""
        await self._db.run(
            f"release proposal {proposal_id}'s Slack {kind}",
            outbox.release,
            proposal_id,
            kind,
            error=error,
            now=now,
        )

    async def settle_slack(self, proposal_id: int, kind: SlackDebtKind, *, generation: int) -> bool:
        """Slack accepted it: delete the debt unless it was owed again since ``generation``."""
        return await self._db.run(
            f"settle proposal {proposal_id}'s Slack {kind}",
            outbox.settle,
            proposal_id,
            kind,
            generation=generation,
        )

    async def forget_slack(self, proposal_id: int, kind: SlackDebtKind) -> None:
        """Drop a debt that is not to be paid (nothing left to tell, or a card that may be posted)."""
        await self._db.run(f"drop proposal {proposal_id}'s Slack {kind}", outbox.forget, proposal_id, kind)

    async def slack_owed_counts(self) -> dict[SlackDebtKind, int]:
        """How many Slack deliveries of each kind are owed."""
        return await self._db.run("count the Slack outbox", outbox.counts)

    async def cluster_proposal_counts(self) -> dict[tuple[str, ProposalState], int]:
        """How many proposals of each cluster are in each state: counted once, then kept up to date
        from the events written since (``store.counts``); no proposal is loaded."""
        return await self._db.run(
            "count proposals by cluster and state", counts.cluster_counts, self._cluster_tally
        )

    # --- leases (docs/replicas.md) ----------------------------------------------------------------

    async def acquire_lease(self, name: str, *, owner: str, ttl: timedelta, now: datetime) -> Lease | None:
        """Take or renew ``name`` for ``owner``; None while another owner holds an unexpired lease."""
        if ttl <= timedelta(0):
            raise ValueError(f"a lease lasts a positive time, not {ttl}")
        return await self._db.run(
            f"take the {name!r} lease", leases.acquire, name, owner=owner, ttl=ttl, now=now
        )

    async def release_lease(self, name: str, *, owner: str) -> None:
        """Give ``name`` up at once if ``owner`` holds it; another owner's lease is left alone."""
        await self._db.run(f"release the {name!r} lease", leases.release, name, owner=owner)

    async def ping(self) -> None:
        """One trivial query: raises ``StoreError`` when the database cannot be used."""
        await self._db.run("read the database", counts.ping)


def _require_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")


async def open_store(
    path: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, read_only: bool = False
) -> SqliteProposalStore:
    """Open (creating and migrating it if needed) the store at ``path``; ``":memory:"`` is allowed.

    ``busy_timeout`` is how long, in seconds, a write waits for another connection's lock before
    ``StoreUnavailable``. ``read_only`` opens an existing, already migrated file without writing.
    """
    db = await Database.open(
        path, busy_timeout=busy_timeout, read_only=read_only, migrations=load_migrations()
    )
    if not read_only:
        try:
            await db.run("hash the audit rows written before the chain", chain.seal)
        except BaseException:
            await db.close()
            raise
    return SqliteProposalStore(db)


@asynccontextmanager
async def connect_store(
    path: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, read_only: bool = False
) -> AsyncIterator[SqliteProposalStore]:
    """``open_store`` as an async context manager that closes the store on exit."""
    store = await open_store(path, busy_timeout=busy_timeout, read_only=read_only)
    try:
        yield store
    finally:
        await store.aclose()


if TYPE_CHECKING:
    _conforms: type[ProposalStore] = SqliteProposalStore
    _leases: type[LeaseStore] = SqliteProposalStore
