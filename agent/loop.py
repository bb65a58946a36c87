"""The agent's loop: observe PD, evaluate the rules, keep tickets in step, propose actions.

One cycle::

    observe (fixed number of PD reads) -> evaluate rules
      -> findings gone: close their tickets and supersede their pending proposals at once
      -> per finding: open/find its ticket; supersede a pending proposal the finding no longer makes;
         skip it while a proposal of it is open or while it backs off
      -> (advisor, if configured: Claude's suggestions, validated like human input)
      -> Operations.propose(...) one action per finding, if the policy lets the agent propose it

Nothing here executes anything: every proposal waits for people. Failures of one proposal (a
preflight refusal, PD unreachable) are logged and reported, never raised out of the loop; the
finding then backs off (exponentially, capped), so a refusal is tried and recorded once per window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from actions.catalog import CATALOG, validate_params
from actions.clock import Clock, utc_now
from actions.errors import ActionError, InvalidRequest, PreflightFailed
from actions.models import (
    IN_FLIGHT,
    ActionRequest,
    ActionType,
    Actor,
    ParamValue,
    Proposal,
    ProposalState,
    Source,
    Ticket,
)
from actions.observe import ClusterObserver
from actions.policy import Policy
from actions.ports import ProposalStore
from agent.advice import Advice, Advisor
from agent.findings import Finding, FindingKind, is_agent_ticket
from agent.observe import Observation, observe
from agent.rules import RuleSettings, evaluate

log = logging.getLogger(__name__)

AGENT_ACTOR = Actor(user_id="agent", name="tikv-chatops agent", is_agent=True)
# People said no, or it went wrong: wait before asking again about the same finding.
COOL_DOWN_STATES = frozenset({ProposalState.REJECTED, ProposalState.FAILED, ProposalState.UNKNOWN})
_STORE_SCAN = 500  # proposals read when looking for in-flight duplicates and the bot's evictions


class ProposalSink(Protocol):
    """What the loop needs of ``actions.operations.Operations``."""

    async def propose(
        self, request: ActionRequest, *, actor: Actor, channel: str | None = None
    ) -> Proposal: ...

    async def supersede(self, proposal_id: int, *, reason: str) -> Proposal | None: ...


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """How often and how much the agent does."""

    interval: float = 60.0  # seconds between cycles
    top_n: int = 64  # largest regions read per cycle (leader-transfer candidates)
    max_new_tickets: int = 10  # new findings ticketed per cycle; the rest wait for the next cycle
    cool_down: timedelta = timedelta(minutes=30)  # after a rejected/failed proposal of the same finding
    # After a refusal at preflight (or PD unreachable), the finding waits this long, doubled for each
    # refusal in a row, up to ``max_back_off``; the cool-down doubles the same way for ended proposals.
    back_off: timedelta = timedelta(minutes=5)
    max_back_off: timedelta = timedelta(hours=6)
    # Temporary actions the agent proposes revert by themselves after this many seconds (None: never).
    revert_after: Mapping[ActionType, int] = field(default_factory=dict)
    rules: RuleSettings = field(default_factory=RuleSettings)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A finding (or one of its actions) the cycle did not propose, and why."""

    key: str
    reason: str
    action: ActionType | None = None


@dataclass(frozen=True, slots=True)
class CycleReport:
    """What one cycle saw and did."""

    started_at: datetime
    findings: tuple[Finding, ...]
    proposals: tuple[Proposal, ...]
    skipped: tuple[Skipped, ...]
    opened_tickets: tuple[int, ...]
    closed_tickets: tuple[int, ...]
    pd_requests: int
    duration_seconds: float
    observe_seconds: float = 0.0  # of which waiting for PD's answers
    read_errors: tuple[str, ...] = ()
    advisor_note: str | None = None
    superseded: tuple[int, ...] = ()  # pending proposals closed because their finding cleared or changed


@dataclass(slots=True)
class _Cycle:
    """Mutable tallies of one cycle, frozen into a ``CycleReport`` at the end."""

    proposals: list[Proposal] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)

    def skip(self, key: str, reason: str, action: ActionType | None = None) -> None:
        log.info("agent: %s not proposed%s: %s", key, f" ({action.value})" if action else "", reason)
        self.skipped.append(Skipped(key, reason, action))


@dataclass(frozen=True, slots=True)
class _Planned:
    action: ActionType
    params: Mapping[str, ParamValue]
    rationale: str
    confidence: float | None = None
    advised_by: str | None = None


def _signature(action: ActionType, params: Mapping[str, ParamValue]) -> tuple[str, str]:
    return action.value, repr(sorted(params.items()))


def _validated(action: ActionType, params: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
    """The catalog's own parse of ``params`` (as text, like a person's input); ``InvalidRequest`` if wrong."""
    spec = CATALOG[action]
    known = {p.name: p for p in spec.params}
    return validate_params(
        action, {k: known[k].format(v) if k in known else str(v) for k, v in params.items()}
    )


def _validated_or_raw(action: ActionType, params: Mapping[str, ParamValue]) -> Mapping[str, ParamValue]:
    try:
        return _validated(action, params)
    except InvalidRequest:
        return params


class AgentLoop:
    """Runs the agent: ``run(stop)`` every ``settings.interval`` seconds, or ``run_once()`` by hand."""

    def __init__(
        self,
        observer: ClusterObserver,
        store: ProposalStore,
        operations: ProposalSink,
        policy: Policy,
        *,
        channel: str | None = None,
        advisor: Advisor | None = None,
        settings: AgentSettings | None = None,
        clock: Clock = utc_now,
        cluster: str | None = None,
    ) -> None:
        """``cluster``: the one this loop watches when the bot operates several. Its tickets' keys then
        end in ``@cluster`` (``store-down:4@prod``), and only its own tickets and proposals count here,
        so two clusters with the same store ids never close or block each other's findings."""
        self._cluster = cluster
        self._observer = observer
        self._store = store
        self._operations = operations
        self._policy = policy
        self._channel = channel
        self._advisor = advisor
        self.settings = settings or AgentSettings()
        self._clock = clock
        self.last_report: CycleReport | None = None
        # Per finding key: refusals in a row, and when the finding may be tried again.
        self._back_off: dict[str, tuple[int, datetime]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until ``stop`` is set. A failing cycle is logged and the next one runs on time."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("agent: cycle failed")
            try:
                async with asyncio.timeout(self.settings.interval):
                    await stop.wait()
            except TimeoutError:
                pass

    async def run_once(self) -> CycleReport:
        """One cycle: observe, evaluate, keep tickets in step, propose."""
        started = time.perf_counter()
        now = self._clock()
        cycle = _Cycle()
        obs = await observe(self._observer, at=now, top_n=self.settings.top_n)
        observed = time.perf_counter()
        in_flight = self._mine(await self._store.list_proposals(states=IN_FLIGHT, limit=_STORE_SCAN))
        obs = await self._with_bot_evictions(obs)
        evaluation = evaluate(obs, self.settings.rules)

        open_tickets = {
            self._finding_key(t.key): t
            for t in await self._store.list_open_tickets()
            if is_agent_ticket(t) and self._watches(t.key)
        }
        await self._close_gone(open_tickets, evaluation.findings, evaluation.evaluated, now, cycle)

        actionable: list[tuple[Finding, Ticket]] = []
        for finding in evaluation.findings:
            ticket = await self._ticket(finding, open_tickets, now, cycle)
            if ticket is None:
                continue
            await self._retire_stale(finding, ticket, cycle)
            if await self._should_propose(finding, ticket, now, cycle):
                actionable.append((finding, ticket))

        advice = await self._advise([f for f, _ in actionable], obs)
        busy = {_signature(p.request.action, p.request.params) for p in in_flight}
        for finding, ticket in actionable:
            await self._propose(finding, ticket, self._plan(finding, advice), busy, cycle)

        report = CycleReport(
            started_at=now,
            findings=evaluation.findings,
            proposals=tuple(cycle.proposals),
            skipped=tuple(cycle.skipped),
            opened_tickets=tuple(cycle.opened),
            closed_tickets=tuple(cycle.closed),
            pd_requests=obs.requests,
            duration_seconds=time.perf_counter() - started,
            observe_seconds=observed - started,
            read_errors=obs.errors,
            advisor_note=advice.unavailable if advice is not None else None,
            superseded=tuple(cycle.superseded),
        )
        self.last_report = report
        log.info(
            "agent: %d finding(s), %d proposal(s), %d skipped, %d PD request(s) in %.3fs",
            len(report.findings),
            len(report.proposals),
            len(report.skipped),
            report.pd_requests,
            report.duration_seconds,
        )
        return report

    # --- several clusters ------------------------------------------------------------------------

    def _mine(self, proposals: list[Proposal]) -> list[Proposal]:
        """The proposals of the cluster this loop watches (all of them with one cluster)."""
        if self._cluster is None:
            return proposals
        return [p for p in proposals if p.request.cluster == self._cluster]

    def _ticket_key(self, finding_key: str) -> str:
        return finding_key if self._cluster is None else f"{finding_key}@{self._cluster}"

    def _watches(self, ticket_key: str) -> bool:
        return self._cluster is None or ticket_key.endswith(f"@{self._cluster}")

    def _finding_key(self, ticket_key: str) -> str:
        return ticket_key if self._cluster is None else ticket_key.removesuffix(f"@{self._cluster}")

    # --- tickets ---------------------------------------------------------------------------------

    async def _close_gone(
        self,
        open_tickets: dict[str, Ticket],
        findings: Sequence[Finding],
        evaluated: frozenset[FindingKind],
        now: datetime,
        cycle: _Cycle,
    ) -> None:
        """Close tickets whose finding was looked for this cycle and not seen."""
        seen = {f.key for f in findings}
        for key, ticket in list(open_tickets.items()):
            kind = FindingKind.of_key(key)
            if kind is None or kind not in evaluated or key in seen:
                continue
            await self._store.close_ticket(ticket.id, now=now)
            del open_tickets[key]
            self._back_off.pop(key, None)
            cycle.closed.append(ticket.id)
            log.info("agent: closed ticket #%d (%s): the finding is gone", ticket.id, key)
            # Closed first, so the rewritten cards show the finding as cleared.
            for proposal in await self._store.list_proposals(ticket_id=ticket.id, limit=_STORE_SCAN):
                if proposal.state is ProposalState.PENDING:
                    await self._supersede(
                        proposal,
                        f"The finding it answered ({key}, ticket #{ticket.id}) has cleared: the agent "
                        "no longer sees the problem.",
                        cycle,
                    )

    async def _supersede(self, proposal: Proposal, reason: str, cycle: _Cycle) -> None:
        try:
            done = await self._operations.supersede(proposal.id, reason=reason)
        except ActionError as exc:
            log.warning("agent: could not supersede proposal #%d: %s", proposal.id, exc)
            return
        if done is not None:
            cycle.superseded.append(proposal.id)
            log.info("agent: superseded proposal #%d: %s", proposal.id, reason)

    async def _retire_stale(self, finding: Finding, ticket: Ticket, cycle: _Cycle) -> None:
        """Supersede the rules' pending proposals of ``ticket`` that the finding no longer makes.

        The cluster moved since it was proposed (the leader went elsewhere, PD became able to do it
        itself): its reasons are no longer true, so its card should not wait for a click. Claude's
        proposals are left to people (the advisor is asked again only for new proposals).
        """
        wanted = {_signature(p.action, _validated_or_raw(p.action, p.params)) for p in finding.proposals}
        for proposal in await self._store.list_proposals(ticket_id=ticket.id, limit=_STORE_SCAN):
            if proposal.state is not ProposalState.PENDING or proposal.request.advised_by is not None:
                continue
            if _signature(proposal.request.action, proposal.original_params) in wanted:
                continue
            await self._supersede(
                proposal,
                f"The finding {finding.key} changed: {finding.title}. The rules no longer propose this.",
                cycle,
            )

    async def _ticket(
        self, finding: Finding, open_tickets: dict[str, Ticket], now: datetime, cycle: _Cycle
    ) -> Ticket | None:
        if finding.key in open_tickets:
            return open_tickets[finding.key]
        if len(cycle.opened) >= self.settings.max_new_tickets:
            cycle.skip(finding.key, f"already {len(cycle.opened)} new findings this cycle; next cycle")
            return None
        ticket, created = await self._store.open_ticket(
            key=self._ticket_key(finding.key), title=finding.title, detail=finding.ticket_detail(), now=now
        )
        open_tickets[finding.key] = ticket
        if created:
            cycle.opened.append(ticket.id)
        return ticket

    def _window(self, attempts: int) -> timedelta:
        """``back_off`` doubled for each attempt after the first, at most ``max_back_off``."""
        doubled: timedelta = self.settings.back_off * (2 ** min(max(attempts - 1, 0), 30))
        return min(doubled, self.settings.max_back_off)

    async def _should_propose(self, finding: Finding, ticket: Ticket, now: datetime, cycle: _Cycle) -> bool:
        """Not while a proposal of the ticket is open, nor while the finding backs off."""
        if not finding.proposals:
            cycle.skip(finding.key, finding.note or "nothing to propose")
            return False
        if (backing := self._back_off.get(finding.key)) is not None and now < backing[1]:
            cycle.skip(
                finding.key, f"refused {backing[0]} time(s) in a row; backing off until {backing[1]:%H:%M}"
            )
            return False
        proposals = await self._store.list_proposals(ticket_id=ticket.id, limit=_STORE_SCAN)
        open_ones = [p for p in proposals if p.state.is_open]
        if open_ones:
            ids = ", ".join(f"#{p.id}" for p in open_ones)
            cycle.skip(finding.key, f"proposal {ids} of ticket #{ticket.id} is still open")
            return False
        ended = [p for p in proposals if p.state in COOL_DOWN_STATES]
        if ended:
            last = max(ended, key=lambda p: p.updated_at)
            wait = min(self.settings.cool_down * (2 ** min(len(ended) - 1, 30)), self.settings.max_back_off)
            if now - last.updated_at < max(wait, self.settings.cool_down):
                cycle.skip(
                    finding.key,
                    f"proposal #{last.id} ended {last.state.value} at {last.updated_at:%H:%M}; cooling down",
                )
                return False
        return True

    # --- proposing -------------------------------------------------------------------------------

    async def _advise(self, findings: Sequence[Finding], obs: Observation) -> Advice | None:
        if self._advisor is None or not findings:
            return None
        allowed = [a for a, spec in CATALOG.items() if self._policy.agent_may_propose(spec.tier)]
        try:
            return await self._advisor.advise(findings, obs, allowed=allowed)
        except Exception:  # an advisor must not stop the rules
            log.exception("agent: the advisor failed")
            return Advice(unavailable="advisor error")

    @staticmethod
    def _plan(finding: Finding, advice: Advice | None) -> list[_Planned]:
        """Claude's valid suggestions for the finding if there are any, else the rules' own.

        With an advisor configured, every rationale says where it came from: "Rules:" or
        "Claude (model, prompt version):", and Claude's proposals carry ``advised_by`` into the
        audit rows.
        """

        def from_rules(note: str = "") -> list[_Planned]:
            label = "Rules:" if advice is not None else ""
            return [
                _Planned(p.action, p.params, " ".join(x for x in (note, label, p.rationale) if x))
                for p in finding.proposals
            ]

        if advice is None:
            return from_rules()
        if advice.unavailable is not None:
            return from_rules(f"Claude unavailable ({advice.unavailable}); proposed by rules.")
        advised = advice.for_finding(finding.key)
        if not advised:
            return from_rules("Claude suggested no valid action for this finding; proposed by rules.")
        who = f"Claude ({advice.source}):" if advice.source else "Claude:"
        return [
            _Planned(a.action, a.params, f"{who} {a.rationale}", a.confidence, advice.source or "claude")
            for a in advised
        ]

    async def _propose(
        self,
        finding: Finding,
        ticket: Ticket,
        plan: Sequence[_Planned],
        busy: set[tuple[str, str]],
        cycle: _Cycle,
    ) -> None:
        """Propose the plan's first step only: one open proposal per finding (a next step, if any, is
        proposed in a later cycle, from the cluster as it is then)."""
        if plan:
            await self._propose_step(finding, ticket, plan[0], busy, cycle)
        for later in plan[1:]:
            cycle.skip(finding.key, "one proposal per finding at a time; later steps wait", later.action)

    async def _propose_step(
        self, finding: Finding, ticket: Ticket, step: _Planned, busy: set[tuple[str, str]], cycle: _Cycle
    ) -> bool:
        """Propose one step; False when it was not proposed (and is not already waiting)."""
        tier = CATALOG[step.action].tier
        if not self._policy.agent_may_propose(tier):
            cycle.skip(
                finding.key, f"the policy does not let the agent propose {tier.value} actions", step.action
            )
            return False
        try:
            params = _validated(step.action, step.params)
        except InvalidRequest as exc:
            log.error(
                "agent: %s built invalid %s parameters %s: %s", finding.key, step.action, step.params, exc
            )
            cycle.skip(finding.key, f"invalid parameters: {exc}", step.action)
            return False
        signature = _signature(step.action, params)
        if signature in busy:
            cycle.skip(finding.key, "the same action is already waiting or running", step.action)
            return True
        request = ActionRequest(
            action=step.action,
            params=params,
            requester=AGENT_ACTOR.user_id,
            source=Source.AGENT,
            rationale=step.rationale,
            evidence=finding.evidence,
            ticket_id=ticket.id,
            confidence=step.confidence,
            advised_by=step.advised_by,
            revert_after_seconds=self.settings.revert_after.get(step.action),
        )
        try:
            proposal = await self._operations.propose(request, actor=AGENT_ACTOR, channel=self._channel)
        except PreflightFailed as exc:
            log.warning("agent: %s %s refused by preflight: %s", finding.key, step.action.value, exc)
            cycle.skip(finding.key, f"refused by preflight: {exc}", step.action)
            self._refused(finding.key)
            return False
        except ActionError as exc:  # policy, invalid request, PD unreachable: logged, never raised
            log.warning("agent: %s %s not proposed: %s", finding.key, step.action.value, exc)
            cycle.skip(finding.key, str(exc), step.action)
            self._refused(finding.key)
            return False
        self._back_off.pop(finding.key, None)
        busy.add(signature)
        cycle.proposals.append(proposal)
        return True

    def _refused(self, key: str) -> None:
        attempts = self._back_off.get(key, (0, self._clock()))[0] + 1
        until = self._clock() + self._window(attempts)
        self._back_off[key] = (attempts, until)
        log.info("agent: %s backs off until %s (%d refusal(s) in a row)", key, until, attempts)

    # --- the bot's own evictions -------------------------------------------------------------------

    async def _with_bot_evictions(self, obs: Observation) -> Observation:
        """Add which evict-leader schedulers the bot created (and when they revert) to ``obs``.

        Only read when an evict-leader holds an Up store, i.e. when the stale-eviction rule needs it.
        """
        if obs.schedulers is None or obs.stores is None:
            return obs
        up = {s.id for s in obs.stores if s.state_name == "Up"}
        held = [s for s in obs.schedulers.evict_leader_store_ids if s in up]
        if not held:
            return obs
        done = self._mine(
            await self._store.list_proposals(
                states=[ProposalState.SUCCEEDED, ProposalState.EXECUTING, ProposalState.UNKNOWN],
                limit=_STORE_SCAN,
            )
        )
        evictions: dict[int, datetime | None] = {}
        for store_id in held:
            mine = [
                p
                for p in done
                if p.request.action in (ActionType.EVICT_LEADER, ActionType.REMOVE_EVICT_LEADER)
                and p.request.params.get("store_id") == store_id
            ]
            if not mine:
                continue
            latest = max(mine, key=lambda p: (p.created_at, p.id))
            # A later removal through the bot means whoever evicted this store since, it was not us.
            if latest.request.action is ActionType.EVICT_LEADER:
                evictions[store_id] = latest.revert_at
        return replace(obs, bot_evictions=evictions) if evictions else obs
