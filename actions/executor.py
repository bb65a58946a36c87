"""Runs an approved proposal exactly once, then follows it until PD says how it ended.

    execute(proposal)
      1. claim: approved -> executing + the "about to call PD" audit row, one transaction
      2. one ``cluster.send`` with ``X-Caller-ID: tikv-chatops/<id>`` — never retried
      3. finish: executing -> succeeded | failed | unknown + the result on the audit row
      4. in the background: follow the operator (or read the change back), verify, refine the result

Step 3 records what PD said to the write itself; step 4 may still move a succeeded proposal to failed
(the operator timed out or was cancelled) or settle an unknown one from what PD reports. Nothing here
ever sends the write a second time: an answer in doubt is settled by reading PD, here or in
``actions.reconcile`` after a crash.

Notifier calls are best-effort: a failure to tell people is logged and never changes the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from actions.audit import SYSTEM_ACTOR, caller_id, intent_entry
from actions.catalog import CATALOG
from actions.clock import Clock
from actions.errors import ClusterError, ClusterRejected, StorageUnavailable
from actions.explain import explain_rejection, explain_unavailable, pd_text
from actions.models import (
    ActionResult,
    CheckResult,
    CheckStatus,
    OperatorOutcome,
    PDRequest,
    Proposal,
    ProposalState,
)
from actions.notify import tell
from actions.operators import FINISHED, describe, is_ours, operator_region, outcome_message
from actions.params import int_param
from actions.ports import Cluster, Notifier, OperatorSnapshot, ProposalStore
from actions.verify import Verdict, Verification, verify

logger = logging.getLogger(__name__)

T = TypeVar("T")

EXECUTOR_ACTOR = f"{SYSTEM_ACTOR}/executor"

# An operator PD never shows is given this many polls before the bot reads the cluster instead.
_MISSING_POLLS = 3

# How long the bot follows an action PD carries out over hours (``ActionSpec.drains``).
DRAIN_FOLLOW_SECONDS = 6 * 3600.0

# Seconds between attempts to record a result the database refused, at most (it starts at the poll).
_RECORD_RETRY_CAP = 30.0

NOT_RECORDED_YET = (
    "The bot's database could not record this yet; the bot keeps following it and records what PD did "
    "once the database has room again. Nothing will be sent to PD a second time."
)


def change_visible(verification: Verification | None) -> bool | None:
    """Whether a verification shows the change: True, False, or None when it could not tell.

    CONFIRMED is visible (a WARN among them is still settling, e.g. leaders still leaving a store),
    REFUTED shows the old state, UNKNOWN (PD could not be read) and no verification at all cannot tell.
    """
    if verification is None or verification.verdict is Verdict.UNKNOWN:
        return None
    return verification.verdict is Verdict.CONFIRMED


def recorded_check(verification: Verification | None) -> CheckResult | None:
    """What a result records and a card shows of a verification: its check (status, evidence, data)."""
    return verification.check if verification is not None else None


class Executor:
    """Claims, sends and follows approved proposals; owns the background tasks that follow them."""

    def __init__(
        self,
        cluster: Cluster,
        store: ProposalStore,
        notifier: Notifier,
        clock: Clock,
        *,
        poll_interval: float = 0.5,
        operator_timeout: float = 20 * 60.0,
        drain_timeout: float = DRAIN_FOLLOW_SECONDS,
        cluster_name: str | None = None,
        replica: str | None = None,
    ) -> None:
        """``cluster_name``: the cluster this process serves; a proposal for another is never run.
        ``replica``: this process's replica id, written on every claim (docs/replicas.md)."""
        self._cluster_name = cluster_name
        self._replica = replica
        self._cluster = cluster
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._poll_interval = poll_interval
        # PD times out its own operators (11 min for an add-peer of a 96 MiB region); this only
        # bounds how long the bot keeps asking.
        self._operator_timeout = operator_timeout
        # A store drain moves every region off the store; this bounds how long the bot watches it.
        self._drain_timeout = drain_timeout
        self._executing: set[int] = set()
        self._followers: dict[int, asyncio.Task[None]] = {}
        # Approved here, but the database failed before the run could be claimed: nobody in this
        # process is going to run them, so the reconciler's sweep need not wait out its grace.
        self._deferred: set[int] = set()

    # --- public ----------------------------------------------------------------------------------

    def serves(self, proposal: Proposal) -> bool:
        """Whether ``proposal`` is for the cluster this process serves (any, when none was named)."""
        return self._cluster_name is None or proposal.request.cluster == self._cluster_name

    def is_busy(self, proposal_id: int) -> bool:
        """Whether this process is sending or following ``proposal_id`` right now."""
        return proposal_id in self._executing or proposal_id in self._followers

    def defer(self, proposal_id: int) -> None:
        """Note that ``proposal_id`` is approved but its run could not start (the database failed)."""
        self._deferred.add(proposal_id)

    def is_deferred(self, proposal_id: int) -> bool:
        """Whether an approval here completed ``proposal_id`` but left its run to the reconciler."""
        return proposal_id in self._deferred

    async def execute(self, proposal: Proposal, *, actor: str | None = None) -> ActionResult | None:
        """Run an approved proposal once. ``None`` when another executor claimed it first.

        Returns after PD answered the write (or did not); following the operator continues in the
        background (see ``drain``). Raises ``StorageUnavailable`` only when the claim itself failed:
        then nothing was sent, and the proposal is left ``defer``-red for the reconciler's sweep.
        """
        if not self.serves(proposal):
            # Approved while the bot served that cluster (the same database, another cluster now):
            # left as it is for a bot that serves it, never sent here.
            logger.warning(
                "proposal %s is for cluster %r but this bot serves %r; not running it",
                proposal.id,
                proposal.request.cluster,
                self._cluster_name,
            )
            return None
        spec = CATALOG[proposal.request.action]
        pd_request = spec.pd_request(proposal.request.params)
        intent = intent_entry(
            proposal,
            actor=actor or EXECUTOR_ACTOR,
            pd_request=pd_request,
            pd_ctl=spec.pd_ctl(proposal.request.params),
            now=self._clock(),
            replica=self._replica,
        )
        self._executing.add(proposal.id)
        try:
            try:
                log_id = await self._store.claim_for_execution(proposal.id, intent=intent, now=self._clock())
            except StorageUnavailable:
                self.defer(proposal.id)
                raise
            self._deferred.discard(proposal.id)
            if log_id is None:
                logger.info("proposal %s was claimed by another executor", proposal.id)
                return None
            # Nothing slow (the card) between the claim and the write: the card follows the result.
            result = await self._send(
                proposal,
                pd_request,
                creates_operator=spec.creates_operator,
                drains=spec.drains,
            )
            try:
                recorded = await self._store.finish_execution(
                    proposal.id, log_id=log_id, result=result, now=self._clock()
                )
            except StorageUnavailable:
                # PD has answered, so whatever the database says the write is done: raising here would
                # tell the approver "nothing was done". Follow it anyway and record it once the
                # database takes it (before ``_executing`` is left, so the reconciler never races it).
                # Only an unavailable database is retried; any other store error is a bug and propagates.
                logger.exception(
                    "proposal %s: PD answered but the result could not be recorded; retrying", proposal.id
                )
                self._follow_task(proposal, self._unrecorded(proposal, log_id, result))
                return result.model_copy(update={"message": f"{result.message} {NOT_RECORDED_YET}"})
        finally:
            self._executing.discard(proposal.id)
        if not recorded:
            # Someone else (a reconciler elsewhere) settled it meanwhile; theirs is the record.
            logger.warning("proposal %s left executing before its result was recorded", proposal.id)
            return result
        finished = await self._reload(proposal, result)
        if result.state is ProposalState.FAILED:
            await tell(self._notifier.update, finished)
            await tell(self._notifier.finished, finished, result)
        else:
            self.follow(finished, log_id=log_id, result=result)
        return result

    def follow(self, proposal: Proposal, *, log_id: int, result: ActionResult) -> None:
        """Follow a sent proposal in the background until PD says how it ended (idempotent)."""
        if proposal.id in self._followers:
            return
        self._follow_task(proposal, self._follow(proposal, log_id, result))

    def _follow_task(self, proposal: Proposal, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name=f"follow-proposal-{proposal.id}")
        self._followers[proposal.id] = task
        task.add_done_callback(lambda t: self._followed(proposal.id, t))

    async def drain(self) -> None:
        """Wait until every background follower has finished (tests; graceful shutdown)."""
        while self._followers:
            await asyncio.gather(*self._followers.values(), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop following; proposals stay as recorded and the reconciler picks them up at the next start."""
        tasks = list(self._followers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._followers.clear()

    # --- the write -------------------------------------------------------------------------------

    async def _send(
        self, proposal: Proposal, pd_request: PDRequest, *, creates_operator: bool, drains: bool = False
    ) -> ActionResult:
        started = self._clock()
        base: dict[str, Any] = {
            "pd_request": pd_request,
            "caller_id": caller_id(proposal.id),
            "started_at": started,
        }
        params = proposal.request.params
        try:
            response = await self._cluster.send(pd_request, caller_id=caller_id(proposal.id))
        except ClusterRejected as exc:
            return ActionResult(
                state=ProposalState.FAILED,
                message=explain_rejection(exc, params),
                pd_response=pd_text(str(exc)),
                pd_status=exc.status,
                finished_at=self._clock(),
                **base,
            )
        except ClusterError as exc:
            return ActionResult(
                state=ProposalState.UNKNOWN if exc.maybe_sent else ProposalState.FAILED,
                message=explain_unavailable(exc, creates_operator=creates_operator),
                pd_response=pd_text(str(exc)),
                pd_status=exc.status,
                finished_at=None if exc.maybe_sent else self._clock(),
                **base,
            )
        except Exception:
            # A bug in the adapter, not an answer from PD: the write may have left, so it is in doubt.
            logger.exception("sending proposal %s to PD failed unexpectedly", proposal.id)
            return ActionResult(
                state=ProposalState.UNKNOWN,
                message="The bot failed while calling PD; the request may have reached PD. "
                "The bot will check what PD did.",
                **base,
            )
        if creates_operator:
            message = "PD accepted the request and created the operator; following it."
            operator = OperatorOutcome.RUNNING
        elif drains:
            # Still running (PD's operators move the regions): the card says so until the Tombstone.
            message = "PD set the store Offline and is moving its regions away; following the drain."
            operator = OperatorOutcome.RUNNING
        else:
            message = "PD accepted the request."
            operator = OperatorOutcome.NONE
        return ActionResult(
            state=ProposalState.SUCCEEDED,
            message=message,
            pd_response=response,
            pd_status=200,
            operator=operator,
            **base,
        )

    # --- following -------------------------------------------------------------------------------

    def _followed(self, proposal_id: int, task: asyncio.Task[None]) -> None:
        self._followers.pop(proposal_id, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("following proposal %s failed", proposal_id, exc_info=task.exception())

    async def _follow(self, proposal: Proposal, log_id: int, result: ActionResult) -> None:
        final = await self._outcome(proposal, result)
        await self._settle_when_possible(proposal, log_id, final)

    async def _settle_when_possible(self, proposal: Proposal, log_id: int, result: ActionResult) -> None:
        """``settle``, retried while the database is unavailable (each attempt is guarded, so repeatable)."""
        await self._until_stored(
            proposal, "outcome", lambda: self.settle(proposal, log_id=log_id, result=result)
        )

    async def _until_stored(self, proposal: Proposal, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call`` until the database takes it, with backoff; only ``StorageUnavailable`` is retried.

        Only the bot's own database, and only while it is unavailable, is retried here; never PD.
        """
        delay = max(self._poll_interval, 0.05)
        while True:
            try:
                return await call()
            except StorageUnavailable as exc:
                logger.warning(
                    "recording proposal %s's %s failed (%s); retrying in %gs", proposal.id, what, exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RECORD_RETRY_CAP)

    async def _outcome(self, proposal: Proposal, result: ActionResult) -> ActionResult:
        """How a sent proposal ended, as PD reports it (following its operator when it made one)."""
        spec = CATALOG[proposal.request.action]
        if spec.drains and result.state is not ProposalState.FAILED:
            return await self._follow_drain(proposal, result)
        if spec.creates_operator:
            return await self._follow_operator(proposal, result)
        return await self._read_back(proposal, result)

    async def _follow_drain(self, proposal: Proposal, result: ActionResult) -> ActionResult:
        """Watch an Offline store until PD buries it (Tombstone), telling the regions left as they go."""
        store_id = int_param(proposal.request.params, "store_id")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._drain_timeout
        first: int | None = None
        left: int | None = None
        shown = ""
        while True:
            try:
                store = await self._cluster.get_store(store_id)
            except ClusterError as exc:
                logger.warning("reading store %s during its drain failed: %s", store_id, exc)
            else:
                if store is None or store.state_name == "Tombstone":
                    await tell(self._notifier.progress, proposal, f"store {store_id} is Tombstone: drained")
                    verification = await self.verify(proposal)
                    moved = f" ({first} regions moved off it)" if first else ""
                    return result.model_copy(
                        update={
                            "state": ProposalState.SUCCEEDED,
                            "message": f"The drain finished: store {store_id} is Tombstone{moved}.",
                            "operator": OperatorOutcome.NONE,
                            "verification": recorded_check(verification),
                            "finished_at": self._clock(),
                        }
                    )
                if store.state_name != "Offline":
                    return result.model_copy(
                        update={
                            "state": ProposalState.FAILED,
                            "message": f"The drain stopped: store {store_id} is {store.state_name} again "
                            f"with {store.region_count} regions on it (the offline was cancelled).",
                            "operator": OperatorOutcome.NONE,
                            "finished_at": self._clock(),
                        }
                    )
                left = store.region_count
                first = left if first is None else max(first, left)
                text = drain_progress(store_id, left, first)
                if text != shown:
                    await tell(self._notifier.progress, proposal, text)
                    shown = text
            if loop.time() >= deadline:
                break
            await asyncio.sleep(self._poll_interval)
        hours = self._drain_timeout / 3600
        still = f"{left} regions were still on it" if left is not None else "PD could not be read"
        return result.model_copy(
            update={
                "state": ProposalState.UNKNOWN,
                "message": f"Store {store_id} was still draining when the bot stopped following it after "
                f"{hours:g} h ({still}). PD keeps draining it; /tikv store {store_id} shows how far it is.",
                "operator": OperatorOutcome.NONE,
                "finished_at": self._clock(),
            }
        )

    async def _unrecorded(self, proposal: Proposal, log_id: int, result: ActionResult) -> None:
        """Follow a sent proposal whose result the database refused, recording it as soon as it can.

        PD's answer to the write is recorded first (retried with backoff, alongside following the
        operator), so the card and the store say what PD did as soon as there is room; the final outcome
        is then settled as usual. The write itself is never sent again.
        """
        recording = asyncio.create_task(
            self._record_answer(proposal, log_id, result), name=f"record-proposal-{proposal.id}"
        )
        try:
            final = result if result.state is ProposalState.FAILED else await self._outcome(proposal, result)
        except asyncio.CancelledError:
            recording.cancel()  # stopping: the reconciler settles it from PD at the next start
            raise
        except Exception:
            # Not cancelled: a store call cut short may still commit, and then who recorded what is unknown.
            try:
                await recording
            except Exception:
                logger.exception("recording proposal %s's result failed", proposal.id)
            raise
        recorded = await recording
        if recorded and final is not result:
            await self._settle_when_possible(proposal, log_id, final)

    async def _record_answer(self, proposal: Proposal, log_id: int, result: ActionResult) -> bool:
        """``finish_execution`` until the database takes it; False when someone else settled it first."""
        recorded = await self._until_stored(
            proposal,
            "result",
            lambda: self._store.finish_execution(
                proposal.id, log_id=log_id, result=result, now=self._clock()
            ),
        )
        if not recorded:
            logger.warning("proposal %s left executing before its result was recorded", proposal.id)
            return False
        logger.info("proposal %s: the result PD gave is recorded after all", proposal.id)
        recorded_proposal = await self._reload(proposal, result)
        await tell(self._notifier.update, recorded_proposal)
        if result.state is ProposalState.FAILED:
            await tell(self._notifier.finished, recorded_proposal, result)
        return True

    async def _follow_operator(self, proposal: Proposal, result: ActionResult) -> ActionResult:
        region = operator_region(proposal.request)
        if region is None:
            return await self._read_back(proposal, result)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._operator_timeout
        last_seen: OperatorSnapshot | None = None
        misses = 0
        while True:
            try:
                operator = await self._cluster.get_operator(region)
            except ClusterError as exc:
                logger.warning("reading the operator of region %s failed: %s", region, exc)
            else:
                if operator is not None and is_ours(operator, proposal.request):
                    if operator.outcome in FINISHED:
                        return await self._operator_finished(proposal, result, operator)
                    if last_seen is None or (operator.outcome, operator.text) != (
                        last_seen.outcome,
                        last_seen.text,
                    ):
                        await tell(self._notifier.progress, proposal, describe(operator))
                    last_seen = operator
                else:
                    misses += 1
                    # Seen and then gone, or never there: PD's record will not come back.
                    if last_seen is not None or misses >= _MISSING_POLLS:
                        break
            if loop.time() >= deadline:
                break
            await asyncio.sleep(self._poll_interval)
        if last_seen is not None and last_seen.outcome is OperatorOutcome.RUNNING and misses == 0:
            minutes = round(self._operator_timeout / 60)
            unseen = (
                f"The operator on region {region} was still running when the bot stopped following it "
                f"after {minutes} min"
            )
        else:
            unseen = f"PD does not report how the operator on region {region} ended"
        return await self._read_back(proposal, result, unseen=unseen)

    async def _operator_finished(
        self, proposal: Proposal, result: ActionResult, operator: OperatorSnapshot
    ) -> ActionResult:
        await tell(self._notifier.progress, proposal, describe(operator))
        if operator.outcome is OperatorOutcome.SUCCESS:
            verification = await self.verify(proposal)
            message = outcome_message(operator)
            if verification is not None and verification.check.status is not CheckStatus.PASS:
                message += f" The check afterwards says: {verification.evidence}"
            return result.model_copy(
                update={
                    "state": ProposalState.SUCCEEDED,
                    "message": message,
                    "operator": operator.outcome,
                    "verification": recorded_check(verification),
                    "finished_at": self._clock(),
                }
            )
        return result.model_copy(
            update={
                "state": ProposalState.FAILED,
                "message": outcome_message(operator),
                "operator": operator.outcome,
                "finished_at": self._clock(),
            }
        )

    async def _read_back(self, proposal: Proposal, result: ActionResult, *, unseen: str = "") -> ActionResult:
        """Settle from the cluster itself when PD's answer (or its operator record) says nothing more.

        ``unseen`` says why the operator could not tell: then, as for a write in doubt, only a visible
        change counts as success and anything else stays unknown.
        """
        verification = await self.verify(proposal)
        seen = verification.evidence if verification is not None else "the check could not run"
        visible = change_visible(verification)
        in_doubt = bool(unseen) or result.state is ProposalState.UNKNOWN
        if visible:
            state = ProposalState.SUCCEEDED
            message = (
                f"{unseen}, but PD shows the change: {seen}" if unseen else f"PD shows the change: {seen}"
            )
        elif in_doubt:
            state = ProposalState.UNKNOWN
            shown = "does not show the change" if visible is False else "cannot be read"
            message = (
                f"{unseen or 'PD did not confirm the request'}, and the cluster {shown} ({seen}). "
                "Check the cluster before trying again; the bot will not resend it."
            )
        else:
            state = ProposalState.SUCCEEDED
            message = f"PD accepted the request, but the check afterwards did not confirm the change: {seen}"
        # RUNNING would be a claim about now; PD did not say how the operator ended.
        operator = OperatorOutcome.NONE if result.operator is OperatorOutcome.RUNNING else result.operator
        return result.model_copy(
            update={
                "state": state,
                "message": message,
                "verification": recorded_check(verification),
                "operator": operator,
                "finished_at": self._clock(),
            }
        )

    async def verify(self, proposal: Proposal) -> Verification | None:
        """The catalog's verification of ``proposal`` against live PD; ``None`` when it could not run."""
        facts = proposal.preflight.facts if proposal.preflight is not None else {}
        try:
            return await verify(proposal.request, facts, self._cluster)
        except Exception:
            logger.exception("verifying proposal %s failed", proposal.id)
            return None

    async def settle(
        self, proposal: Proposal, *, log_id: int, result: ActionResult, actor: str = EXECUTOR_ACTOR
    ) -> None:
        """Record the final result of a sent proposal: its state (when it changed), result and card."""
        current = await self._store.get_proposal(proposal.id) or proposal
        if result.state is not current.state:
            moved = await self._store.transition(
                proposal.id,
                expected=current.state,
                new=result.state,
                actor=actor,
                now=self._clock(),
                detail={"reason": result.message, "operator": result.operator.value},
            )
            if not moved:
                logger.warning(
                    "proposal %s moved on before its outcome %s was recorded", proposal.id, result.state
                )
                return
        await self._store.update_result(proposal.id, log_id=log_id, result=result)
        settled = await self._reload(proposal, result)
        await tell(self._notifier.update, settled)
        await tell(self._notifier.finished, settled, result)

    # --- helpers ---------------------------------------------------------------------------------

    async def _reload(self, proposal: Proposal, result: ActionResult) -> Proposal:
        """The proposal as stored after ``result`` was recorded; as recorded, when it cannot be read back.

        The record is already committed when this runs, so a database too busy to read it back must not
        undo the telling and following that come next.
        """
        fallback = proposal.model_copy(update={"state": result.state, "result": result})
        try:
            stored = await self._store.get_proposal(proposal.id)
        except StorageUnavailable as exc:
            logger.warning("proposal %s: reading it back after recording failed (%s)", proposal.id, exc)
            return fallback
        return stored if stored is not None else fallback


def drain_progress(store_id: int, left: int, first: int) -> str:
    """``store 5 is Offline: 37 regions left to move (13 of 50 moved)``."""
    moved = first - left
    done = f" ({moved} of {first} moved)" if first else ""
    return f"store {store_id} is Offline: {left} regions left to move{done}"
