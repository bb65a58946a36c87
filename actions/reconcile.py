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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from actions.audit import RECONCILER_ACTOR, checks_json, find_intent, note_entry
from actions.catalog import CATALOG
from actions.clock import Clock
from actions.errors import ClusterError, StorageUnavailable
from actions.executor import DRAINS, Executor, change_visible
from actions.models import (
    ActionApproval,
    ActionRequest,
    ActionResult,
    Decision,
    OperatorOutcome,
    Proposal,
    ProposalState,
    Source,
)
from actions.notify import tell
from actions.operators import FINISHED, is_ours, operator_region, outcome_message
from actions.policy import Policy
from actions.ports import ApprovalOutcome, AuditQuery, Cluster, Notifier, ProposalStore
from actions.preflight import run_preflight

logger = logging.getLogger(__name__)

# PD keeps a finished operator's status for ten minutes (docs/pd.md): within that window
# "no operator" means the write never created one.
OPERATOR_RECORD_TTL = timedelta(minutes=10)

_SCAN_LIMIT = 1000


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
    ) -> None:
        self._cluster = cluster
        self._store = store
        self._notifier = notifier
        self._executor = executor
        self._policy = policy
        self._clock = clock
        # Periodic passes leave younger proposals alone: another replica may be sending them right now.
        self._grace = grace
        self._revert_lock = asyncio.Lock()

    # --- at start --------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Run once before serving: settle executing proposals, resume following, finish approvals."""
        await self.reconcile_executing()
        await self.resume_following()
        await self.resume_approved()

    async def reconcile_executing(self, *, older_than: timedelta = timedelta(0)) -> list[Proposal]:
        """Settle every proposal left ``executing`` from what PD reports; returns the ones settled."""
        settled: list[Proposal] = []
        now = self._clock()
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
            if self._executor.is_busy(proposal.id) or (older_than and now - proposal.updated_at < older_than):
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
        self._executor.signals.notify(proposal.id)
        settled = await self._store.get_proposal(proposal.id) or proposal
        if result.operator is OperatorOutcome.RUNNING and intent is not None and intent.id is not None:
            self._executor.follow(settled, log_id=intent.id, result=result)
        else:
            await self._tell_finished(settled, result)
        return settled

    async def _what_pd_shows(
        self, proposal: Proposal, *, intent_at: datetime
    ) -> tuple[ActionResult, dict[str, Any]] | None:
        """What PD says about a write that may or may not have reached it; ``None`` if PD cannot say."""
        spec = CATALOG[proposal.request.action]
        pd_request = spec.pd_request(proposal.request.params)
        base = ActionResult(
            state=ProposalState.UNKNOWN,
            message="",
            pd_request=pd_request,
            caller_id=f"tikv-chatops/{proposal.id}",
            started_at=intent_at,
            finished_at=self._clock(),
        )
        region = operator_region(proposal.request)
        if spec.creates_operator and region is not None:
            try:
                operator = await self._cluster.get_operator(region)
            except ClusterError as exc:
                logger.warning("reconcile: reading the operator of region %s failed: %s", region, exc)
                return None
            if operator is not None and is_ours(operator, proposal.request):
                detail: dict[str, Any] = {
                    "operator": operator.outcome.value,
                    "operator_desc": operator.desc,
                    "brief": operator.brief,
                }
                if operator.outcome is OperatorOutcome.RUNNING:
                    return base.model_copy(
                        update={
                            "state": ProposalState.SUCCEEDED,
                            "operator": OperatorOutcome.RUNNING,
                            "finished_at": None,
                            "message": "Found after a restart: PD is running the operator "
                            f"({operator.brief or operator.desc}); following it.",
                        }
                    ), detail
                if operator.outcome in FINISHED:
                    state = (
                        ProposalState.SUCCEEDED
                        if operator.outcome is OperatorOutcome.SUCCESS
                        else ProposalState.FAILED
                    )
                    verification = (
                        await self._executor.verify(proposal) if state is ProposalState.SUCCEEDED else None
                    )
                    return base.model_copy(
                        update={
                            "state": state,
                            "operator": operator.outcome,
                            "verification": verification,
                            "message": f"Found after a restart: {outcome_message(operator)}",
                        }
                    ), detail
        verification = await self._executor.verify(proposal)
        if (
            proposal.request.action in DRAINS
            and verification is not None
            and verification.data.get("state") == "Offline"
        ):
            # The offline took effect and PD is still moving regions off the store: follow the drain.
            return base.model_copy(
                update={
                    "state": ProposalState.SUCCEEDED,
                    "operator": OperatorOutcome.RUNNING,
                    "finished_at": None,
                    "message": f"Found after a restart: {verification.message}; following the drain.",
                }
            ), {"verification": verification.model_dump(mode="json")}
        visible = change_visible(verification)
        if verification is None or (visible is None and not spec.creates_operator):
            return None  # PD could not be read: try again on the next pass
        detail = {"verification": verification.model_dump(mode="json")}
        if visible:
            return base.model_copy(
                update={
                    "state": ProposalState.SUCCEEDED,
                    "verification": verification,
                    "message": f"Found after a restart: PD shows the change ({verification.message}).",
                }
            ), detail
        # Schedulers, config and store state change synchronously inside PD's handler, so a change PD
        # does not show did not happen. An operator leaves a record for ten minutes, so "no operator"
        # proves nothing was created only within that window.
        recent = self._clock() - intent_at < OPERATOR_RECORD_TTL
        if visible is False and (recent or not spec.creates_operator):
            what = f"no operator for region {region} and " if spec.creates_operator else ""
            return base.model_copy(
                update={
                    "state": ProposalState.FAILED,
                    "verification": verification,
                    "message": f"Found after a restart: PD shows {what}not the change "
                    f"({verification.message}), so the request did not take effect. Nothing was resent; "
                    "propose it again if it is still needed.",
                }
            ), detail
        return base.model_copy(
            update={
                "verification": verification,
                "message": "Found after a restart: PD cannot tell whether the request took effect "
                f"({verification.message}). Check the cluster before trying again; "
                "the bot will not resend it.",
            }
        ), detail

    async def resume_following(self) -> int:
        """Follow again what a restart interrupted: running operators and writes in doubt."""
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
                    self._executor.signals.notify(proposal.id)
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
            self._executor.signals.notify(proposal.id)
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
            reverted = {p.undo_of for p in recent if p.undo_of is not None}
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
                    revert = await self._revert(proposal, now)
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

    async def _revert(self, proposal: Proposal, now: datetime) -> Proposal | None:
        spec = CATALOG[proposal.request.action]
        facts = proposal.preflight.facts if proposal.preflight is not None else {}
        inverse = spec.inverse(proposal.request.params, facts)
        if inverse is None:
            logger.warning("proposal %s is due for a revert but its action has no inverse", proposal.id)
            return None
        action, params = inverse
        seconds = proposal.request.revert_after_seconds
        request = ActionRequest(
            action=action,
            params=dict(params),
            cluster=proposal.request.cluster,
            requester=RECONCILER_ACTOR,
            source=Source.AGENT,
            rationale=f"Automatic revert of #{proposal.id} ({spec.describe(proposal.request.params)})"
            + (f", asked to last {timedelta(seconds=seconds)}." if seconds else "."),
            ticket_id=proposal.request.ticket_id,
        )
        inverse_spec = CATALOG[action]
        report = await run_preflight(request, self._cluster, self._policy)
        revert = await self._store.create_proposal(
            request=request,
            tier=inverse_spec.tier,
            approvals_required=1,
            preflight=report,
            expires_at=now + self._policy.tier_policy(inverse_spec.tier).ttl,
            now=now,
            channel=proposal.channel,
            undo_of=proposal.id,
        )
        revert = await self._publish(revert)
        if report.blocked:
            reason = "; ".join(f"{c.name}: {c.message}" for c in report.failures)
            await self._store.transition(
                revert.id,
                expected=ProposalState.PENDING,
                new=ProposalState.SUPERSEDED,
                actor=RECONCILER_ACTOR,
                now=now,
                revision=revert.revision,
                detail={"reason": f"Nothing to revert: {reason}", "checks": checks_json(report)},
            )
            await self._store.log_entry(
                note_entry(
                    actor=RECONCILER_ACTOR,
                    request=request,
                    proposal_id=revert.id,
                    result={"revert_of": proposal.id, "skipped": reason},
                    now=now,
                )
            )
            stored = await self._store.get_proposal(revert.id) or revert
            await self._tell_update(stored)
            return stored
        outcome = await self._store.add_approval(
            ActionApproval(
                proposal_id=revert.id,
                revision=revert.revision,
                approver=RECONCILER_ACTOR,
                decision=Decision.APPROVE,
                reason=f"automatic revert of #{proposal.id}",
                decided_at=now,
            ),
            required=1,
        )
        if outcome is not ApprovalOutcome.APPROVED:
            logger.warning(
                "the revert %s of proposal %s was not approved: %s", revert.id, proposal.id, outcome
            )
            return await self._store.get_proposal(revert.id)
        approved = await self._store.get_proposal(revert.id) or revert
        await self._executor.execute(approved, actor=RECONCILER_ACTOR)
        return await self._store.get_proposal(revert.id) or approved

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
        for name, step in steps:
            try:
                await step()
            except Exception:
                logger.exception("background pass failed while %s", name)

    # --- telling people --------------------------------------------------------------------------

    async def _publish(self, proposal: Proposal) -> Proposal:
        try:
            card = await self._notifier.publish(proposal, channel=proposal.channel)
        except Exception:
            logger.exception("posting the card of proposal %s failed", proposal.id)
            return proposal
        if card is None:
            return proposal
        noted = proposal.model_copy(update={"channel": card.channel, "message_ts": card.message_ts})
        try:
            await self._store.set_card(proposal.id, channel=card.channel, message_ts=card.message_ts)
            return await self._store.get_proposal(proposal.id) or noted
        except StorageUnavailable as exc:
            # The proposal and its card exist: carry on (a revert still runs) rather than leave it half
            # done; only the card's later rewrites are lost if its place was not stored.
            logger.warning("proposal %s: noting where its card is failed (%s)", proposal.id, exc)
            return noted

    async def _tell_update(self, proposal: Proposal) -> None:
        await tell(self._notifier.update, proposal)

    async def _tell_finished(self, proposal: Proposal, result: ActionResult) -> None:
        await tell(self._notifier.update, proposal)
        await tell(self._notifier.finished, proposal, result)
