"""``Operations``: the one facade the Slack bot and the agent call to propose, decide and undo actions.

Each method checks the policy, re-checks live PD where a decision depends on it, makes one guarded
store transition, then tells people (best-effort) and wakes waiters. Every refusal is an
``ActionError`` whose text is safe to show to the person who clicked:

    ProposalNotFound   no such proposal
    PolicyRefusal      this person may not (self-approval, non-approver, channel, tier closed to the agent)
    StaleDecision      the proposal moved on (decided, edited, expired, cluster changed) — look again
    PreflightFailed    live PD says no; nothing was sent
    InvalidRequest     the action cannot be done this way (no inverse, bad parameters)

The bot's database failing (``StorageUnavailable``) reaches the caller as such only when the
operation's first write failed, so nothing of it is recorded. Once that write committed, a later
failure is either absorbed (reading back what was just written; the card is best-effort anyway) or
raised as ``PartlyRecorded``, saying what stands, so nobody is told "try again" about something that
would be refused or duplicated.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from actions.audit import RECONCILER_ACTOR, SYSTEM_ACTOR, checks_json, note_entry, refusal_entry
from actions.catalog import CATALOG, validate_params
from actions.clock import Clock
from actions.dryrun import dry_run
from actions.edits import diff_params, subject_changes
from actions.errors import (
    InvalidRequest,
    InverseAlreadyOpen,
    PartlyRecorded,
    PolicyRefusal,
    PreflightFailed,
    ProposalNotFound,
    Recorded,
    StaleDecision,
    StorageUnavailable,
)
from actions.executor import Executor
from actions.facts import describe_changes
from actions.membership import membership_refusal
from actions.models import (
    IN_FLIGHT,
    ActionApproval,
    ActionRequest,
    ActionResult,
    Actor,
    AuditEntry,
    Decision,
    DryRunReport,
    PreflightReport,
    Proposal,
    ProposalEdit,
    ProposalState,
    Source,
    Tier,
)
from actions.notify import tell
from actions.params import InvalidParams
from actions.policy import Policy
from actions.ports import ApprovalOutcome, AuditQuery, Cluster, Notifier, ProposalStore
from actions.preflight import run_preflight
from actions.risk import effective_tier

logger = logging.getLogger(__name__)

TTL_ACTOR = f"{SYSTEM_ACTOR}/ttl"
PREFLIGHT_ACTOR = f"{SYSTEM_ACTOR}/preflight"
AGENT_ACTOR_NAME = f"{SYSTEM_ACTOR}/agent"

# Decided states, and those a waiter keeps waiting through (the executor moves them on by itself).

# How long a request's keys are remembered to refuse its replay: longer than the five minutes a signed
# request is accepted for, so clock skew between Slack and the bot cannot open a gap.
REPLAY_WINDOW = timedelta(minutes=10)


class ApproveOutcome(enum.StrEnum):
    """What one Approve click did."""

    RECORDED = "recorded"  # counted; more approvals are needed
    EXECUTED = "executed"  # it completed the quorum and the bot sent the action to PD
    CLAIMED = "claimed"  # it completed the quorum, but another executor (replica) is running it


@dataclass(frozen=True, slots=True)
class ApproveResult:
    """The outcome of an approval, the proposal as stored afterwards, and a sentence for the approver."""

    outcome: ApproveOutcome
    proposal: Proposal
    message: str
    result: ActionResult | None = None  # how PD answered the write, when this approval executed it


def _failures(report: PreflightReport) -> str:
    return "; ".join(f"{c.name}: {c.message}" for c in report.failures)


def _risk(report: PreflightReport) -> str:
    return report.risk.reason if report.risk is not None and report.risk.reason else "its risk"


def _when(moment: datetime) -> str:
    return moment.strftime("%H:%M UTC")


class Operations:
    """Propose, approve, reject, edit and undo actions; read proposals and the audit log."""

    def __init__(
        self,
        cluster: Cluster,
        store: ProposalStore,
        notifier: Notifier,
        policy: Policy,
        executor: Executor,
        clock: Clock,
        *,
        cluster_name: str | None = None,
    ) -> None:
        """``cluster_name`` is the cluster this process serves: a proposal made for another (the same
        database used by a bot that served another cluster) is refused at approve and at edit."""
        self._cluster_name = cluster_name
        self._cluster = cluster
        self._store = store
        self._notifier = notifier
        self.policy = policy
        self._executor = executor
        self._clock = clock

    # --- reading ---------------------------------------------------------------------------------

    async def get(self, proposal_id: int) -> Proposal:
        proposal = await self._store.get_proposal(proposal_id)
        if proposal is None:
            raise ProposalNotFound(f"There is no proposal #{proposal_id}.")
        return proposal

    async def pending(self, *, limit: int = 50) -> list[Proposal]:
        """Proposals waiting for approval."""
        return await self._store.list_proposals(states=[ProposalState.PENDING], limit=limit)

    async def home(self, actor: Actor, *, limit: int = 50) -> tuple[list[Proposal], list[Proposal]]:
        """What ``actor``'s Home shows: proposals waiting for their approval, and their own open ones."""
        pending = await self.pending(limit=limit)
        awaiting = [
            p for p in pending if p.requester != actor.user_id and self.policy.may_approve(actor, p) is None
        ]
        own = [p for p in pending if p.requester == actor.user_id]
        return awaiting, own

    async def audit(self, query: AuditQuery) -> list[AuditEntry]:
        """Newest first; ``within`` counts back from now."""
        if query.within is not None:
            since = self._clock() - query.within
            if query.since is not None:
                since = max(since, query.since)
            query = replace(query, since=since, within=None)
        return await self._store.query_audit(query)

    async def first_delivery(self, keys: Sequence[str]) -> bool:
        """True the first time a request with any of ``keys`` (its trigger id, its body's hash) arrives;
        False for a replay within ``REPLAY_WINDOW``. Remembered in the store, so restarts and other
        processes on the same database see it too."""
        return await self._store.note_delivery(keys, now=self._clock(), window=REPLAY_WINDOW)

    # --- proposing -------------------------------------------------------------------------------

    async def dry_run(self, request: ActionRequest, *, actor: Actor) -> DryRunReport:
        """Preflight, exact PD request, pd-ctl line, tier and approvals needed; never writes to PD."""
        return await dry_run(
            request,
            actor=actor,
            cluster=self._cluster,
            store=self._store,
            policy=self.policy,
            clock=self._clock,
        )

    async def propose(self, request: ActionRequest, *, actor: Actor, channel: str | None = None) -> Proposal:
        """Check the policy and live PD, store the proposal and post its card.

        The request is recorded as ``actor``'s, whatever its ``requester`` says: the approval rules
        hang on who asked.
        """
        return await self._propose(request, actor=actor, channel=channel)

    async def _propose(
        self, request: ActionRequest, *, actor: Actor, channel: str | None, undo_of: int | None = None
    ) -> Proposal:
        self._may_act(actor, "propose")
        update: dict[str, object] = {
            "requester": actor.user_id,
            "source": Source.AGENT if actor.is_agent else request.source,
        }
        if actor.is_agent and self._cluster_name is not None:
            update["cluster"] = self._cluster_name  # the agent only ever watches the cluster served here
        request = request.model_copy(update=update)
        if self._cluster_name is not None and request.cluster != self._cluster_name:
            raise PolicyRefusal(self._other_cluster(request.cluster, "proposed"))
        spec = CATALOG[request.action]
        if not self.policy.channel_allowed(channel):
            raise PolicyRefusal(
                "Actions cannot be requested in this channel; use one of the operations channels: "
                + ", ".join(sorted(self.policy.channels))
                + "."
            )
        if actor.is_agent and not self.policy.agent_may_propose(spec.tier):
            raise PolicyRefusal(
                f"The agent may not propose {spec.tier.value} actions such as {request.action.value}; "
                "a person has to request it."
            )
        now = self._clock()
        report = await run_preflight(request, self._cluster, self.policy)
        if report.blocked:
            await self._store.log_entry(
                note_entry(
                    actor=actor.user_id,
                    request=request,
                    result={"refused": "preflight", "checks": checks_json(report)},
                    now=now,
                )
            )
            raise PreflightFailed(
                f"Not proposed: {spec.describe(request.params)} fails its checks against PD — "
                f"{_failures(report)}.",
                report=report,
            )
        tier = effective_tier(report, request.action)
        if actor.is_agent and not self.policy.agent_may_propose(tier):
            raise PolicyRefusal(
                f"The agent may not propose {tier.value} actions such as this one ({_risk(report)}); "
                "a person has to request it."
            )
        tier_policy = self.policy.tier_policy(tier)
        proposal = await self._store.create_proposal(
            request=request,
            tier=tier,
            approvals_required=tier_policy.approvals,
            preflight=report,
            expires_at=now + tier_policy.ttl,
            now=now,
            channel=channel,
            undo_of=undo_of,
            revert_at=self._revert_at(request, report, now),
        )
        return await self._publish(proposal, channel=channel)

    async def revert(self, original: Proposal, *, now: datetime) -> Proposal | None:
        """Revert a temporary change whose time has come: propose its inverse, approve it, run it.

        The reconciler's automatic revert, not a person's Undo: ``RECONCILER_ACTOR`` proposes it at the
        inverse's catalog tier and is its one approval. When its preflight fails (someone already undid
        the change) it is recorded and closed as superseded, never sent. ``None`` when the action has no
        inverse; otherwise the revert as stored.
        """
        spec = CATALOG[original.request.action]
        facts = original.preflight.facts if original.preflight is not None else {}
        inverse = spec.inverse(original.request.params, facts)
        if inverse is None:
            logger.warning("proposal %s is due for a revert but its action has no inverse", original.id)
            return None
        action, params = inverse
        seconds = original.request.revert_after_seconds
        request = ActionRequest(
            action=action,
            params=dict(params),
            cluster=original.request.cluster,
            requester=RECONCILER_ACTOR,
            source=Source.AGENT,
            rationale=f"Automatic revert of #{original.id} ({spec.describe(original.request.params)})"
            + (f", asked to last {timedelta(seconds=seconds)}." if seconds else "."),
            ticket_id=original.request.ticket_id,
        )
        tier = CATALOG[action].tier
        report = await run_preflight(request, self._cluster, self.policy)
        revert = await self._store.create_proposal(
            request=request,
            tier=tier,
            approvals_required=1,
            preflight=report,
            expires_at=now + self.policy.tier_policy(tier).ttl,
            now=now,
            channel=original.channel,
            undo_of=original.id,
        )
        # The revert runs whether or not its card's place could be stored: only rewrites would miss it.
        revert = await self._publish(revert, channel=original.channel, unnoted_ok=True)
        if report.blocked:
            return await self._nothing_to_revert(original, revert, report, now=now)
        outcome = await self._store.add_approval(
            ActionApproval(
                proposal_id=revert.id,
                revision=revert.revision,
                approver=RECONCILER_ACTOR,
                decision=Decision.APPROVE,
                reason=f"automatic revert of #{original.id}",
                decided_at=now,
            ),
            required=1,
        )
        if outcome is not ApprovalOutcome.APPROVED:
            logger.warning(
                "the revert %s of proposal %s was not approved: %s", revert.id, original.id, outcome
            )
            return await self._store.get_proposal(revert.id)
        approved = await self._store.get_proposal(revert.id) or revert
        await self._executor.execute(approved, actor=RECONCILER_ACTOR)
        return await self._store.get_proposal(revert.id) or approved

    async def _nothing_to_revert(
        self, original: Proposal, revert: Proposal, report: PreflightReport, *, now: datetime
    ) -> Proposal:
        """Close a revert whose preflight failed as superseded, with the reason in the audit."""
        reason = _failures(report)
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
                request=revert.request,
                proposal_id=revert.id,
                result={"revert_of": original.id, "skipped": reason},
                now=now,
            )
        )
        stored = await self._store.get_proposal(revert.id) or revert
        await tell(self._notifier.update, stored)
        return stored

    def _revert_at(self, request: ActionRequest, report: PreflightReport, now: datetime) -> datetime | None:
        """When a temporary or reversible change is reverted automatically (when asked to be); only
        changes the catalog can invert."""
        spec = CATALOG[request.action]
        if not request.revert_after_seconds or spec.tier not in (Tier.TEMPORARY, Tier.REVERSIBLE):
            return None
        if spec.inverse(request.params, report.facts) is None:
            return None
        return now + timedelta(seconds=request.revert_after_seconds)

    async def _publish(
        self, proposal: Proposal, *, channel: str | None, unnoted_ok: bool = False
    ) -> Proposal:
        """Post the proposal's card (best-effort) and store where it is.

        When that place cannot be stored, ``PartlyRecorded`` says so to the person who asked; with
        ``unnoted_ok`` (nobody is waiting, e.g. an automatic revert) it is logged and the proposal goes on.
        """
        try:
            card = await self._notifier.publish(proposal, channel=channel)
        except Exception:
            logger.exception("posting the card of proposal %s failed", proposal.id)
            return proposal
        if card is None:
            return proposal
        noted = proposal.model_copy(update={"channel": card.channel, "message_ts": card.message_ts})
        try:
            await self._store.set_card(proposal.id, channel=card.channel, message_ts=card.message_ts)
        except StorageUnavailable as exc:
            if unnoted_ok:
                logger.warning("proposal %s: noting where its card is failed (%s)", proposal.id, exc)
                return noted
            # The proposal is stored and its card is live: "nothing was recorded, try again" would be
            # false and a retry would make a duplicate. Its buttons work without the stored place.
            raise PartlyRecorded(
                f"proposal {proposal.id}: its card is posted but could not be noted: {exc}",
                proposal_id=proposal.id,
                recorded=Recorded.PROPOSAL_CARD_UNNOTED,
            ) from exc
        return await self._read_back(proposal.id, noted)

    # --- deciding --------------------------------------------------------------------------------

    async def approve(self, proposal_id: int, *, actor: Actor, revision: int | None = None) -> ApproveResult:
        """Approve; the approval that completes the quorum sends the action to PD before returning."""
        self._may_act(actor, "approve")
        proposal = await self._decidable(proposal_id, revision=revision, verb="approve")
        self._same_cluster(proposal, "approved")
        refusal = self.policy.may_approve(actor, proposal)
        if refusal is None and actor.user_id in await self._editors(proposal):
            refusal = (
                "You edited this proposal, so someone else has to approve it (whoever chose the "
                "parameters of any revision may not approve it)."
            )
        if refusal is not None:
            await self._refused(proposal, actor, "approval", refusal)
            raise PolicyRefusal(refusal)
        proposal = await self._recheck(proposal)
        now = self._clock()
        outcome = await self._store.add_approval(
            ActionApproval(
                proposal_id=proposal.id,
                revision=proposal.revision,
                approver=actor.user_id,
                decision=Decision.APPROVE,
                decided_at=now,
            ),
            required=proposal.approvals_required,
        )
        if outcome is ApprovalOutcome.DUPLICATE:
            refusal = "You already approved this; it needs an approval from someone else."
            await self._refused(proposal, actor, "approval", refusal)
            raise PolicyRefusal(refusal)
        if outcome is ApprovalOutcome.STALE:
            raise StaleDecision(await self._moved_on(proposal_id))
        if outcome is ApprovalOutcome.EXPIRED:
            # The store moved it to expired in the same statement that refused the approval.
            await self._decided(proposal_id, proposal.model_copy(update={"state": ProposalState.EXPIRED}))
            raise StaleDecision(self._expired(proposal))
        # The approval is committed: from here an unavailable database must not say "not recorded".
        try:
            stored = await self.get(proposal_id)
        except StorageUnavailable as exc:
            if outcome is ApprovalOutcome.RECORDED:
                raise PartlyRecorded(
                    f"proposal {proposal_id}: the approval is recorded but could not be read back: {exc}",
                    proposal_id=proposal_id,
                    recorded=Recorded.APPROVAL,
                ) from exc
            self._executor.defer(proposal_id)
            raise self._run_waits(proposal_id, exc) from exc
        if outcome is ApprovalOutcome.RECORDED:
            await tell(self._notifier.update, stored)
            count = len(set(stored.approvers))
            needed = stored.approvals_required - count
            who = "another person approves" if needed == 1 else f"{needed} more people approve"
            return ApproveResult(
                ApproveOutcome.RECORDED,
                stored,
                f"Approval recorded: {count} of {stored.approvals_required}. It runs once {who}.",
            )
        # The executor rewrites the card once PD answered; telling Slack first would delay the write.
        try:
            result = await self._executor.execute(stored, actor=actor.user_id)
        except StorageUnavailable as exc:
            # Only the claim raises it, before anything is sent; the executor left the run to the sweep.
            raise self._run_waits(proposal_id, exc) from exc
        if result is not None:
            stored = stored.model_copy(update={"state": result.state, "result": result})
        final = await self._read_back(proposal_id, stored)
        if result is None and final.state is ProposalState.EXPIRED:
            # The claim found it past ``expires_at`` (the approval took that long) and expired it.
            await self._decided(proposal_id, final)
            raise StaleDecision(self._expired(final) + " Nothing was sent to PD.")
        if result is None:
            return ApproveResult(ApproveOutcome.CLAIMED, final, "Approved; another worker is running it.")
        # "sent" only when the write left: a refusal or an outage's message says what happened instead.
        lead = "Approved." if result.state is ProposalState.FAILED else "Approved and sent."
        return ApproveResult(ApproveOutcome.EXECUTED, final, f"{lead} {result.message}", result)

    @staticmethod
    def _run_waits(proposal_id: int, exc: StorageUnavailable) -> PartlyRecorded:
        return PartlyRecorded(
            f"proposal {proposal_id}: approved, but the run could not start: {exc}",
            proposal_id=proposal_id,
            recorded=Recorded.APPROVAL_RUN_WAITS,
        )

    async def reject(
        self, proposal_id: int, *, actor: Actor, reason: str = "", revision: int | None = None
    ) -> Proposal:
        """Reject (or, for the requester, withdraw) a pending proposal."""
        self._may_act(actor, "reject")
        proposal = await self._decidable(proposal_id, revision=revision, verb="reject")
        refusal = self.policy.may_reject(actor, proposal)
        if refusal is not None:
            await self._refused(proposal, actor, "rejection", refusal)
            raise PolicyRefusal(refusal)
        rejected = await self._store.reject(
            ActionApproval(
                proposal_id=proposal.id,
                revision=proposal.revision,
                approver=actor.user_id,
                decision=Decision.REJECT,
                reason=reason.strip(),
                decided_at=self._clock(),
            )
        )
        if not rejected:
            raise StaleDecision(await self._moved_on(proposal_id))
        return await self._decided(proposal_id, proposal.model_copy(update={"state": ProposalState.REJECTED}))

    async def edit(
        self, proposal_id: int, *, actor: Actor, params: Mapping[str, str], revision: int | None = None
    ) -> Proposal:
        """New parameters for a pending proposal: validated, re-checked, a new revision, approvals reset.

        ``revision`` is the one the person was looking at; an edit of an older one is refused as stale.
        The edit records its editor and what it changed; it keeps the proposal's subject (see
        ``actions.edits``) and its expiry. Raises the catalog's ``InvalidParams`` (field -> message)
        for the modal's inline errors.
        """
        self._may_act(actor, "edit")
        proposal = await self._decidable(proposal_id, revision=revision, verb="edit")
        self._same_cluster(proposal, "edited")
        refusal = self.policy.may_edit(actor, proposal)
        if refusal is not None:
            await self._refused(proposal, actor, "edit", refusal)
            raise PolicyRefusal(refusal)
        validated = validate_params(proposal.request.action, params)
        refused = subject_changes(proposal.request.action, proposal.request.params, validated)
        if refused:
            raise InvalidParams(refused)
        request = proposal.request.model_copy(update={"params": dict(validated)})
        report = await run_preflight(request, self._cluster, self.policy)
        if report.blocked:
            raise PreflightFailed(
                f"Not changed: the new parameters fail their checks against PD — {_failures(report)}.",
                report=report,
            )
        now = self._clock()
        tier = effective_tier(report, request.action)
        revised = await self._store.revise(
            proposal.id,
            expected_revision=proposal.revision,
            request=request,
            preflight=report,
            expires_at=proposal.expires_at,  # an edit does not extend its life
            actor=actor.user_id,
            now=now,
            tier=tier,
            approvals_required=self.policy.tier_policy(tier).approvals,
            edit=ProposalEdit(
                revision=proposal.revision + 1,
                editor=actor.user_id,
                changes=diff_params(proposal.request.params, request.params),
                at=now,
            ),
        )
        if revised is None:
            raise StaleDecision(await self._moved_on(proposal_id))
        await tell(self._notifier.update, revised)
        return revised

    async def check_edit(self, proposal_id: int, params: Mapping[str, str]) -> PreflightReport:
        """The preflight an edit to ``params`` would get, changing nothing (the modal's quick check).

        Raises what ``edit`` raises for a proposal that cannot be edited or parameters that do not parse.
        """
        proposal = await self.get(proposal_id)
        validated = validate_params(proposal.request.action, params)
        request = proposal.request.model_copy(update={"params": dict(validated)})
        return await run_preflight(request, self._cluster)

    async def review_modal(
        self, proposal_id: int, *, revision: int, params: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Why a modal submission cannot go ahead, by parameter (``""``: about the whole modal).

        Reads the store only (it runs before a modal's ack): a modal opened on an older revision, or
        on a proposal that is no longer pending, is stale; an edit (``params``, already validated by
        the catalog) may not change the proposal's subject. {} when nothing is wrong.
        """
        proposal = await self.get(proposal_id)
        if proposal.state is not ProposalState.PENDING:
            return {"": await self._moved_on(proposal_id, proposal)}
        if revision != proposal.revision:
            return {
                "": f"This form was opened on revision {revision}, but proposal #{proposal_id} is now at "
                f"revision {proposal.revision}. Close it and open the card's latest version."
            }
        if params is None:
            return {}
        try:
            validated = validate_params(proposal.request.action, params)
        except InvalidRequest:
            return {}  # the catalog's own errors are the ack's to show
        return subject_changes(proposal.request.action, proposal.request.params, validated)

    async def undo(self, proposal_id: int, *, actor: Actor, channel: str | None = None) -> Proposal:
        """Propose the inverse of a succeeded action; it is approved like any other proposal."""
        self._may_act(actor, "undo")
        original = await self.get(proposal_id)
        spec = CATALOG[original.request.action]
        if original.state is not ProposalState.SUCCEEDED:
            raise InvalidRequest(
                f"Only actions that succeeded can be undone; #{proposal_id} is {original.state.value}."
            )
        facts = original.preflight.facts if original.preflight is not None else {}
        inverse = spec.inverse(original.request.params, facts)
        if inverse is None:
            raise InvalidRequest(
                f"{original.request.action.value} cannot be undone: it has no inverse action."
            )
        for other in await self._store.list_proposals(
            states=[*IN_FLIGHT, ProposalState.SUCCEEDED, ProposalState.UNKNOWN], limit=500
        ):
            if other.undo_of == proposal_id:
                raise StaleDecision(f"#{other.id} already undoes #{proposal_id}; it is {other.state.value}.")
        action, params = inverse
        request = ActionRequest(
            action=action,
            params=dict(params),
            cluster=original.request.cluster,
            requester=actor.user_id,
            rationale=f"Undo of #{proposal_id}: {spec.describe(original.request.params)}",
            ticket_id=original.request.ticket_id,
        )
        try:
            return await self._propose(
                request, actor=actor, channel=channel or original.channel, undo_of=proposal_id
            )
        except InverseAlreadyOpen:
            # Another undo was stored between the check above and ours: the database kept it to one.
            for other in await self._store.list_proposals(states=list(IN_FLIGHT), limit=500):
                if other.undo_of == proposal_id:
                    raise StaleDecision(
                        f"#{other.id} already undoes #{proposal_id}; it is {other.state.value}."
                    ) from None
            raise

    async def expire_if_due(self, proposal: Proposal) -> Proposal:
        """Move a pending proposal past its TTL to expired (guarded); returns it as stored."""
        if proposal.state is not ProposalState.PENDING or self._clock() < proposal.expires_at:
            return proposal
        moved = await self._store.transition(
            proposal.id,
            expected=ProposalState.PENDING,
            new=ProposalState.EXPIRED,
            actor=TTL_ACTOR,
            now=self._clock(),
            revision=proposal.revision,
            detail={"reason": f"nobody decided before {_when(proposal.expires_at)}"},
        )
        if moved:
            expired = proposal.model_copy(update={"state": ProposalState.EXPIRED})
            return await self._decided(proposal.id, expired)
        return await self.get(proposal.id)

    async def supersede(self, proposal_id: int, *, reason: str) -> Proposal | None:
        """Close a pending proposal whose reason has gone (the agent's finding cleared or changed).

        Guarded like every transition: None when it was no longer pending. The card is rewritten.
        """
        proposal = await self.get(proposal_id)
        if proposal.state is not ProposalState.PENDING:
            return None
        moved = await self._store.transition(
            proposal_id,
            expected=ProposalState.PENDING,
            new=ProposalState.SUPERSEDED,
            actor=AGENT_ACTOR_NAME,
            now=self._clock(),
            revision=proposal.revision,
            detail={"reason": reason},
        )
        if not moved:
            return None
        return await self._decided(
            proposal_id, proposal.model_copy(update={"state": ProposalState.SUPERSEDED})
        )

    # --- helpers ---------------------------------------------------------------------------------

    async def _refused(self, proposal: Proposal, actor: Actor, verb: str, reason: str) -> None:
        """Record a refused decision, with the reason the person is about to be given."""
        await self._store.log_entry(
            refusal_entry(proposal, actor=actor.user_id, verb=verb, reason=reason, now=self._clock())
        )

    async def _decidable(self, proposal_id: int, *, revision: int | None, verb: str) -> Proposal:
        """The proposal, if it is still pending at ``revision`` and inside its TTL."""
        proposal = await self.get(proposal_id)
        if proposal.state is not ProposalState.PENDING:
            raise StaleDecision(await self._moved_on(proposal_id, proposal))
        if revision is not None and revision != proposal.revision:
            raise StaleDecision(
                "This card is out of date: the proposal was edited "
                f"(it is now revision {proposal.revision}). Review the new version and {verb} again."
            )
        proposal = await self.expire_if_due(proposal)
        if proposal.state is ProposalState.EXPIRED:
            raise StaleDecision(self._expired(proposal))
        if proposal.state is not ProposalState.PENDING:
            raise StaleDecision(await self._moved_on(proposal_id, proposal))
        return proposal

    async def _recheck(self, proposal: Proposal) -> Proposal:
        """Preflight again before an approval counts: supersede on failure, new revision on drift."""
        report = await run_preflight(proposal.request, self._cluster, self.policy)
        before = proposal.preflight.facts if proposal.preflight is not None else {}
        now = self._clock()
        if report.blocked:
            changed = describe_changes(before, report.facts)
            moved = await self._store.transition(
                proposal.id,
                expected=ProposalState.PENDING,
                new=ProposalState.SUPERSEDED,
                actor=PREFLIGHT_ACTOR,
                now=now,
                revision=proposal.revision,
                detail={"reason": _failures(report), "changed": changed, "checks": checks_json(report)},
            )
            if not moved:
                raise StaleDecision(await self._moved_on(proposal.id))
            await self._decided(proposal.id, proposal.model_copy(update={"state": ProposalState.SUPERSEDED}))
            raise PreflightFailed(
                f"The cluster changed and this action no longer passes its checks: {_failures(report)} "
                f"({changed}). Nothing was sent and the proposal is closed; "
                "propose again if it is still needed.",
                report=report,
            )
        if report.fingerprint == proposal.fingerprint:
            return proposal
        changed = describe_changes(before, report.facts)
        tier = effective_tier(report, proposal.request.action)
        revised = await self._store.revise(
            proposal.id,
            expected_revision=proposal.revision,
            request=proposal.request,
            preflight=report,
            expires_at=proposal.expires_at,  # a re-check does not extend its life either
            actor=PREFLIGHT_ACTOR,
            now=now,
            tier=tier,
            approvals_required=self.policy.tier_policy(tier).approvals,
            edit=ProposalEdit(revision=proposal.revision + 1, editor=PREFLIGHT_ACTOR, system=True, at=now),
        )
        if revised is None:
            raise StaleDecision(await self._moved_on(proposal.id))
        await tell(self._notifier.update, revised)
        raise StaleDecision(
            f"The cluster changed since this was checked: {changed}. Review and approve again."
        )

    async def _editors(self, proposal: Proposal) -> set[str]:
        """People who edited any revision of the proposal: the bot's own re-check revisions keep the
        parameters someone chose, so choosing them once is enough to be refused as an approver.

        The events log is read as well as the proposal's edit records, which revisions made before
        the edits were recorded (schema 0003) lack.
        """
        events = await self._store.events(proposal.id)
        return set(proposal.editors) | {
            e.actor
            for e in events
            if e.to_state == ProposalState.PENDING.value
            and e.from_state == ProposalState.PENDING.value
            and not e.actor.startswith(SYSTEM_ACTOR)
        }

    @staticmethod
    def _may_act(actor: Actor, verb: str) -> None:
        refusal = membership_refusal(actor, verb=verb)
        if refusal is not None:
            raise PolicyRefusal(refusal)

    def _other_cluster(self, cluster: str, done: str) -> str:
        return (
            f"This is a proposal for cluster `{cluster}`, but this bot serves `{self._cluster_name}`, so it "
            f"cannot be {done} here. Nothing was sent to PD."
        )

    def _same_cluster(self, proposal: Proposal, done: str) -> None:
        """Refuse a proposal made for another cluster than the one served here."""
        if self._cluster_name is not None and proposal.request.cluster != self._cluster_name:
            raise PolicyRefusal(self._other_cluster(proposal.request.cluster, done))

    def _expired(self, proposal: Proposal) -> str:
        tier_policy = self.policy.tier_policy(proposal.tier)
        return (
            f"Proposal #{proposal.id} expired at {_when(proposal.expires_at)}: nobody decided within "
            f"{tier_policy.ttl}. Propose it again if it is still needed."
        )

    async def _moved_on(self, proposal_id: int, proposal: Proposal | None = None) -> str:
        """Why a decision no longer applies, read from the store."""
        current = proposal or await self.get(proposal_id)
        if current.state is ProposalState.PENDING:
            return (
                f"Proposal #{proposal_id} changed while you were deciding (it is now revision "
                f"{current.revision}). Review it and decide again."
            )
        if current.state is ProposalState.EXPIRED:
            return (
                f"Proposal #{proposal_id} expired at {_when(current.expires_at)}; propose it again if needed."
            )
        who = ", ".join(current.approvers)
        by = f" (approved by {who})" if who and current.state not in (ProposalState.REJECTED,) else ""
        return (
            f"Proposal #{proposal_id} is already {current.state.value}{by}; there is nothing left to decide."
        )

    async def _decided(self, proposal_id: int, fallback: Proposal) -> Proposal:
        """After a transition: wake waiters and rewrite the card.

        ``fallback`` is the proposal as the transition left it, for when it cannot be read back: the
        transition is committed, so the caller is answered from it and the card waits for the next
        rewrite (a card is only ever written from the store).
        """
        stored = await self._read_back(proposal_id, fallback)
        if stored is not fallback:
            await tell(self._notifier.update, stored)
        return stored

    async def _read_back(self, proposal_id: int, fallback: Proposal) -> Proposal:
        """The proposal as stored after a committed write; ``fallback`` when the database cannot say."""
        try:
            return await self.get(proposal_id)
        except StorageUnavailable as exc:
            logger.warning("proposal %s: reading it back after a write failed (%s)", proposal_id, exc)
            return fallback
