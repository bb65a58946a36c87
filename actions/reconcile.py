"""Settling what a crash or an outage left open, reverting temporary changes, expiring old proposals.

At start (``startup``), for every proposal the store still holds as:

    executing   the intent is committed, the result is not: ask PD what happened (the operator's status,
                or the scheduler list / config / store state through the catalog's verification) and
                record succeeded, failed or unknown with an audit row saying what was found
    succeeded   with the operator still RUNNING, or unknown with a write in doubt: follow it again
    approved    but never claimed: execute it if the cluster is as it was approved, else supersede it

The write is never sent again: everything here reads PD. Then ``run_background`` keeps expiring
proposals past their TTL and reverting temporary changes (evict-leader, scheduler pause, store limit)
once their ``revert_at`` has passed — each exactly once, as a recorded system action.

With replicas (a ``ReplicaWatch``), a proposal in flight is another replica's while that replica's
heartbeat lives: it is settled (or followed again) here only once the replica that claimed it is gone,
or once it has been executing longer than the grace. At start, in-flight proposals of replicas that
still look alive are waited for, at most one heartbeat lifetime, before serving (docs/replicas.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actions.audit import RECONCILER_ACTOR, caller_id, checks_json, find_intent, note_entry
from actions.catalog import CATALOG
from actions.clock import Clock
from actions.errors import ClusterError
from actions.executor import Executor, change_visible
from actions.leases import ReplicaWatch, claimed_by
from actions.models import (
    ActionResult,
    CheckResult,
    OperatorOutcome,
    Proposal,
    ProposalState,
)
from actions.notify import tell
from actions.operations import Operations
from actions.operators import FINISHED, is_ours, operator_region, outcome_message
from actions.policy import Policy
from actions.ports import AuditQuery, Cluster, Notifier, OperatorSnapshot, ProposalStore
from actions.preflight import run_preflight
from actions.verify import Verification

logger = logging.getLogger(__name__)

# PD keeps a finished operator's status for ten minutes (docs/pd.md): within that window
# "no operator" means the write never created one.
OPERATOR_RECORD_TTL = timedelta(minutes=10)

_SCAN_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Found:
    """What PD showed about a write left executing, as ``settle`` needs it."""

    creates_operator: bool
    drains: bool  # the action drains a store over hours (``ActionSpec.drains``)
    region: int | None  # the region whose operator reports the outcome
    operator: OperatorSnapshot | None  # our operator, when PD shows one
    verification: Verification | None  # None: not read (see ``needs_verification``) or it could not run
    recent: bool  # the intent is younger than ``OPERATOR_RECORD_TTL``


@dataclass(frozen=True, slots=True)
class Settlement:
    """What to record for a write left executing: its state, the message, and what was found."""

    state: ProposalState
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    operator: OperatorOutcome = OperatorOutcome.NONE
    verification: CheckResult | None = None
    following: bool = False  # still under way: the executor follows it (no ``finished_at`` yet)


def needs_verification(operator: OperatorSnapshot | None) -> bool:
    """Whether ``settle`` needs the catalog's verification besides ``operator`` (our operator, if any)."""
    if operator is None:
        return True
    if operator.outcome is OperatorOutcome.RUNNING:
        return False
    return operator.outcome not in FINISHED or operator.outcome is OperatorOutcome.SUCCESS


def settle(found: Found) -> Settlement | None:
    """How a write left executing ended, from what PD shows; ``None`` when PD cannot say (ask again later).

        PD shows                                            recorded
        our operator RUNNING                                succeeded, followed again
        our operator finished: SUCCESS                      succeeded (with the verification)
        our operator finished: TIMEOUT, CANCEL or REPLACE   failed
        a drain whose store is Offline                      succeeded, followed again
        the change (verdict CONFIRMED)                      succeeded
        not the change (REFUTED), and no operator can have
          been created and forgotten (no operator action,
          or the intent is within PD's ten-minute record)   failed
        no verification, or UNKNOWN for a non-operator action   None
        anything else                                       unknown: never resent, check by hand

    Schedulers, config and store state change synchronously inside PD's handler, so a change PD does not
    show did not happen. An operator leaves a record for ten minutes, so "no operator" proves nothing
    was created only within that window.
    """
    operator, verification = found.operator, found.verification
    if operator is not None:
        seen: dict[str, Any] = {
            "operator": operator.outcome.value,
            "operator_desc": operator.desc,
            "brief": operator.brief,
        }
        if operator.outcome is OperatorOutcome.RUNNING:
            return Settlement(
                ProposalState.SUCCEEDED,
                "Found after a restart: PD is running the operator "
                f"({operator.brief or operator.desc}); following it.",
                seen,
                operator=OperatorOutcome.RUNNING,
                following=True,
            )
        if operator.outcome in FINISHED:
            succeeded = operator.outcome is OperatorOutcome.SUCCESS
            return Settlement(
                ProposalState.SUCCEEDED if succeeded else ProposalState.FAILED,
                f"Found after a restart: {outcome_message(operator)}",
                seen,
                operator=operator.outcome,
                verification=verification.check if succeeded and verification is not None else None,
            )
    if verification is None:
        return None  # the check could not run: try again on the next pass
    detail = {"verification": verification.check.model_dump(mode="json")}
    if found.drains and verification.check.data.get("state") == "Offline":
        # The offline took effect and PD is still moving regions off the store: follow the drain.
        return Settlement(
            ProposalState.SUCCEEDED,
            f"Found after a restart: {verification.evidence}; following the drain.",
            detail,
            operator=OperatorOutcome.RUNNING,
            following=True,
        )
    visible = change_visible(verification)
    if visible is None and not found.creates_operator:
        return None  # PD could not be read: try again on the next pass
    if visible:
        return Settlement(
            ProposalState.SUCCEEDED,
            f"Found after a restart: PD shows the change ({verification.evidence}).",
            detail,
            verification=verification.check,
        )
    if visible is False and (found.recent or not found.creates_operator):
        what = f"no operator for region {found.region} and " if found.creates_operator else ""
        return Settlement(
            ProposalState.FAILED,
            f"Found after a restart: PD shows {what}not the change ({verification.evidence}), so the "
            "request did not take effect. Nothing was resent; propose it again if it is still needed.",
            detail,
            verification=verification.check,
        )
    return Settlement(
        ProposalState.UNKNOWN,
        "Found after a restart: PD cannot tell whether the request took effect "
        f"({verification.evidence}). Check the cluster before trying again; the bot will not resend it.",
        detail,
        verification=verification.check,
    )


class Reconciler:
    """Settles proposals left open by a crash and runs the periodic sweeps."""

    def __init__(
        self,
        cluster: Cluster,
        store: ProposalStore,
        notifier: Notifier,
        executor: Executor,
        policy: Policy,
        clock: Clock,
        *,
        grace: timedelta = timedelta(minutes=2),
        operations: Operations | None = None,
        replicas: ReplicaWatch | None = None,
    ) -> None:
        """``operations`` proposes and runs the reverts (one is made from the same parts if not given);
        ``replicas`` tells which replicas are alive, so another's in-flight claims are left to it."""
        self._cluster = cluster
        self._store = store
        self._notifier = notifier
        self._executor = executor
        self._policy = policy
        self._clock = clock
        # Periodic passes leave younger proposals alone: another replica may be sending them right now.
        self._grace = grace
        self._revert_lock = asyncio.Lock()
        self._operations = operations or Operations(cluster, store, notifier, policy, executor, clock)
        # None: one process only, so whatever is in flight at start was left by a crash of this bot.
        self._replicas = replicas
        self._claimer_alive = 0  # in-flight proposals the last pass left to a live replica

    # --- at start --------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Run once before serving: settle executing proposals, resume following, finish approvals."""
        await self.reconcile_executing(at_start=True)
        await self.resume_following(at_start=True)
        await self.resume_approved()
        if self._replicas is not None and self._claimer_alive:
            await self._wait_for_claimers(self._replicas)

    async def _wait_for_claimers(self, replicas: ReplicaWatch) -> None:
        """In-flight proposals of replicas whose heartbeat still lives: after a crash that is the dead
        process's heartbeat, lapsing within one ``ttl``; a live replica keeps renewing it. Wait that
        long, settling each once its replica is gone; what is left is a live replica's."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + replicas.ttl.total_seconds() * 4 / 3
        while self._claimer_alive and loop.time() < deadline:
            await asyncio.sleep(min(0.5, replicas.ttl.total_seconds() / 10))
            await self.reconcile_executing(at_start=True)
            await self.resume_following(at_start=True)
        if self._claimer_alive:
            logger.info(
                "reconcile: %d proposals in flight on other live replicas are left to them",
                self._claimer_alive,
            )

    async def _claimer_gone(self, proposal: Proposal, *, older_than: timedelta, at_start: bool) -> bool:
        """Whether an in-flight proposal, not busy here, may be settled (or followed) by this process."""
        if older_than and self._clock() - proposal.updated_at >= older_than:
            return True
        if self._replicas is None:
            return not older_than  # one process: everything at start, past the grace later
        entries = await self._store.query_audit(AuditQuery(proposal_id=proposal.id, limit=100))
        if await self._replicas.gone(claimed_by(find_intent(entries, proposal.id)), at_start=at_start):
            return True
        self._claimer_alive += 1
        return False

    async def reconcile_executing(
        self, *, older_than: timedelta = timedelta(0), at_start: bool = False
    ) -> list[Proposal]:
        """Settle every proposal left ``executing`` from what PD reports; returns the ones settled.

        Without replicas: all of them (``older_than`` unset) or those older than ``older_than``. With
        replicas: those older than ``older_than`` (when set) and those whose claiming replica is gone.
        """
        settled: list[Proposal] = []
        self._claimer_alive = 0
        leftovers = await self._store.list_proposals(states=[ProposalState.EXECUTING], limit=_SCAN_LIMIT)
        leftovers = [p for p in leftovers if self._executor.serves(p)]  # another cluster's: its own PD
        if not leftovers:
            return settled
        try:
            await self._cluster.health()
        except ClusterError as exc:
            logger.warning(
                "reconcile: PD cannot be asked (%s); %d proposals stay executing", exc, len(leftovers)
            )
            return settled
        for proposal in leftovers:
            if self._executor.is_busy(proposal.id) or not await self._claimer_gone(
                proposal, older_than=older_than, at_start=at_start
            ):
                continue
            try:
                result = await self._reconcile_one(proposal)
            except Exception:
                logger.exception("reconciling proposal %s failed; it stays executing", proposal.id)
                continue
            if result is not None:
                settled.append(result)
        return settled

    async def _reconcile_one(self, proposal: Proposal) -> Proposal | None:
        entries = await self._store.query_audit(AuditQuery(proposal_id=proposal.id, limit=100))
        intent = find_intent(entries, proposal.id)
        found = await self._what_pd_shows(
            proposal, intent_at=intent.created_at if intent else proposal.updated_at
        )
        if found is None:
            return None  # PD could not be asked; try again on the next pass
        result, detail = found
        if intent is not None and intent.id is not None:
            moved = await self._store.finish_execution(
                proposal.id, log_id=intent.id, result=result, now=self._clock()
            )
        else:
            moved = await self._store.transition(
                proposal.id,
                expected=ProposalState.EXECUTING,
                new=result.state,
                actor=RECONCILER_ACTOR,
                now=self._clock(),
                detail={"reason": result.message},
            )
        if not moved:
            return None
        await self._store.log_entry(
            note_entry(
                actor=RECONCILER_ACTOR,
                request=proposal.request,
                proposal_id=proposal.id,
                result={
                    "reconciled": "executing",
                    "state": result.state.value,
                    "found": result.message,
                    **detail,
                },
                now=self._clock(),
            )
        )
        settled = await self._store.get_proposal(proposal.id) or proposal
        if result.operator is OperatorOutcome.RUNNING and intent is not None and intent.id is not None:
            self._executor.follow(settled, log_id=intent.id, result=result)
        else:
            await self._tell_finished(settled, result)
        return settled

    async def _what_pd_shows(
        self, proposal: Proposal, *, intent_at: datetime
    ) -> tuple[ActionResult, dict[str, Any]] | None:
        """What PD says about a write that may or may not have reached it; ``None`` if PD cannot say.

        Reads our operator (when the action makes one) and, where ``settle`` needs it, the catalog's
        verification; ``settle`` decides.
        """
        spec = CATALOG[proposal.request.action]
        region = operator_region(proposal.request)
        operator = None
        if spec.creates_operator and region is not None:
            try:
                shown = await self._cluster.get_operator(region)
            except ClusterError as exc:
                logger.warning("reconcile: reading the operator of region %s failed: %s", region, exc)
                return None
            if shown is not None and is_ours(shown, proposal.request):
                operator = shown
        verification = await self._executor.verify(proposal) if needs_verification(operator) else None
        now = self._clock()
        settled = settle(
            Found(
                creates_operator=spec.creates_operator,
                drains=spec.drains,
                region=region,
                operator=operator,
                verification=verification,
                recent=now - intent_at < OPERATOR_RECORD_TTL,
            )
        )
        if settled is None:
            return None
        result = ActionResult(
            state=settled.state,
            message=settled.message,
            pd_request=spec.pd_request(proposal.request.params),
            caller_id=caller_id(proposal.id),
            operator=settled.operator,
            verification=settled.verification,
            started_at=intent_at,
            finished_at=None if settled.following else now,
        )
        return result, settled.detail

    async def resume_following(self, *, at_start: bool = False) -> int:
        """Follow again what a restart interrupted: running operators and writes in doubt.

        With replicas, only what a replica that is gone left (this one's earlier process, at start).
        """
        resumed = 0
        candidates = await self._store.list_proposals(
            states=[ProposalState.SUCCEEDED, ProposalState.UNKNOWN], limit=_SCAN_LIMIT
        )
        for proposal in candidates:
            result = proposal.result
            if result is None or self._executor.is_busy(proposal.id) or not self._executor.serves(proposal):
                continue
            running = result.operator is OperatorOutcome.RUNNING
            in_doubt = proposal.state is ProposalState.UNKNOWN and result.finished_at is None
            if not (running or in_doubt):
                continue
            entries = await self._store.query_audit(AuditQuery(proposal_id=proposal.id, limit=100))
            intent = find_intent(entries, proposal.id)
            if intent is None or intent.id is None:
                continue
            if self._replicas is not None and not await self._replicas.gone(
                claimed_by(intent), at_start=at_start
            ):
                continue
            self._executor.follow(proposal, log_id=intent.id, result=result)
            resumed += 1
        return resumed

    async def resume_approved(self, *, older_than: timedelta = timedelta(0)) -> list[Proposal]:
        """Approved proposals nobody claimed (a crash right after the last approval, or the database
        failing between the last approval and the claim).

        The periodic pass leaves proposals younger than ``older_than`` to the approval that is about to
        claim them — except those this process's own approval gave up on (``Executor.is_deferred``),
        which run at the next pass. Running one twice is impossible either way: the store's
        ``claim_for_execution`` lets exactly one executor send it.
        """
        handled = []
        now = self._clock()
        for proposal in await self._store.list_proposals(states=[ProposalState.APPROVED], limit=_SCAN_LIMIT):
            young = older_than and now - proposal.updated_at < older_than
            if self._executor.is_busy(proposal.id) or (young and not self._executor.is_deferred(proposal.id)):
                continue
            if not self._executor.serves(proposal):
                continue  # another cluster's (the same database, another TIKV_CHATOPS_CLUSTER)
            report = await run_preflight(proposal.request, self._cluster, self._policy)
            if report.blocked or report.fingerprint != proposal.fingerprint:
                reason = (
                    "the cluster no longer passes its checks"
                    if report.blocked
                    else "the cluster changed since it was approved"
                )
                if await self._store.transition(
                    proposal.id,
                    expected=ProposalState.APPROVED,
                    new=ProposalState.SUPERSEDED,
                    actor=RECONCILER_ACTOR,
                    now=now,
                    detail={"reason": f"Not run after a restart: {reason}.", "checks": checks_json(report)},
                ):
                    stored = await self._store.get_proposal(proposal.id) or proposal
                    await self._tell_update(stored)
                    handled.append(stored)
                continue
            await self._executor.execute(proposal, actor=RECONCILER_ACTOR)
            handled.append(await self._store.get_proposal(proposal.id) or proposal)
        return handled

    # --- periodic --------------------------------------------------------------------------------

    async def sweep_expired(self, now: datetime) -> list[Proposal]:
        """Expire every pending proposal past its TTL and rewrite their cards."""
        expired = await self._store.expire_due(now=now)
        for proposal in expired:
            await self._tell_update(proposal)
        return expired

    async def revert_due(self, now: datetime) -> list[Proposal]:
        """Revert every temporary change whose time has come, once; returns the revert proposals.

        A change counts as reverted once any proposal names it in ``undo_of`` (a revert, or a
        person's Undo). Those are always newer than the change, so the newest proposals are scanned
        down to it; a change older than the scan window is left alone and logged rather than risk
        reverting it twice.
        """
        async with self._revert_lock:
            succeeded = await self._store.list_proposals(states=[ProposalState.SUCCEEDED], limit=_SCAN_LIMIT)
            due = [
                p
                for p in succeeded
                if (at := self._due_at(p)) is not None and at <= now and self._executor.serves(p)
            ]
            if not due:
                return []
            recent = await self._store.list_proposals(limit=_SCAN_LIMIT)
            # An undo that expired unapproved (a person's nobody approved, or a revert cut off between its
            # creation and its approval) undid nothing: the change is still due.
            reverted = {
                p.undo_of for p in recent if p.undo_of is not None and p.state is not ProposalState.EXPIRED
            }
            complete_above = min(p.id for p in recent) if len(recent) >= _SCAN_LIMIT else 0
            done = []
            for proposal in sorted(due, key=lambda p: p.id):
                if proposal.id in reverted:
                    continue
                if proposal.id < complete_above:
                    logger.warning(
                        "proposal %s is due for a revert, but too many proposals followed it to tell "
                        "whether it was reverted already; revert it by hand if needed",
                        proposal.id,
                    )
                    continue
                try:
                    # Shielded: losing the sweeper's lease cancels the sweep, but a revert already
                    # proposed is approved and sent, not left pending with nobody to approve it.
                    revert = await asyncio.shield(self._operations.revert(proposal, now=now))
                except Exception:
                    logger.exception("reverting proposal %s failed", proposal.id)
                    continue
                if revert is not None:
                    done.append(revert)
            return done

    @staticmethod
    def _due_at(proposal: Proposal) -> datetime | None:
        """When a temporary change is due for its revert (``None``: never).

        ``revert_at`` was set when it was proposed; if it ran later than that, the change still lasts
        the ``revert_after_seconds`` it asked for, counted from the moment it was sent.
        """
        if proposal.revert_at is None:
            return None
        seconds = proposal.request.revert_after_seconds
        if proposal.result is None or not seconds:
            return proposal.revert_at
        return max(proposal.revert_at, proposal.result.started_at + timedelta(seconds=seconds))

    async def run_background(self, stop: asyncio.Event, interval: float) -> None:
        """Until ``stop`` is set: expire, revert what is due, and settle leftovers older than the grace."""
        while not stop.is_set():
            await self._background_pass(self._clock())
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def _background_pass(self, now: datetime) -> None:
        steps: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
            ("expiring proposals", lambda: self.sweep_expired(now)),
            ("reverting temporary changes", lambda: self.revert_due(now)),
            ("reconciling executing proposals", lambda: self.reconcile_executing(older_than=self._grace)),
            ("resuming approved proposals", lambda: self.resume_approved(older_than=self._grace)),
        )
        if self._replicas is not None:
            # What a replica that died was following: nobody else would ever finish telling it.
            steps += (("following what a gone replica followed", self.resume_following),)
        for name, step in steps:
            try:
                await step()
            except Exception:
                logger.exception("background pass failed while %s", name)

    # --- telling people --------------------------------------------------------------------------

    async def _tell_update(self, proposal: Proposal) -> None:
        await tell(self._notifier.update, proposal)

    async def _tell_finished(self, proposal: Proposal, result: ActionResult) -> None:
        await tell(self._notifier.update, proposal)
        await tell(self._notifier.finished, proposal, result)
