"""The agent loop end to end on a real stack (see agent_support): each finding's proposals, tickets,
no duplicates, the policy, preflight refusals and PD reads that do not grow with the regions."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from agent_support import PROPOSAL_CHANNEL, agent_env, healthy_model

from actions.catalog import CATALOG
from actions.models import ActionRequest, ActionType, Actor, ProposalState, Source, Tier
from actions.policy import Policy
from actions.ports import AuditQuery
from agent.findings import open_findings_summary
from agent.loop import AgentSettings, CycleReport
from pd.simulator import ClusterModel

PEOPLE = Actor(user_id="U0ALICE", name="alice")
BOB = Actor(user_id="U0BOB", name="bob")
READS = 14  # PD requests of one cycle, whatever the region count
BALANCE_LEADER = "balance-leader-scheduler"
MAY_PROPOSE_ALL = Policy.from_mapping({"tiers": {"irreversible": {"agent_may_propose": True}}})
MIB = 1024 * 1024


def a_region(model: ClusterModel, *, on: int, not_leader: bool = True) -> int:
    """The lowest region id with a peer on store ``on`` (and, by default, its leader elsewhere)."""
    for region_id in sorted(model.regions):
        region = model.regions[region_id]
        peer = region.peer_on(on)
        if peer is not None and (not not_leader or region.leader is not peer):
            return region_id
    raise AssertionError(f"no region on store {on}")


# --- a healthy cluster -----------------------------------------------------------------------------


async def test_healthy_cluster_gets_no_findings_no_tickets_no_proposals() -> None:
    """Nothing is wrong: the cycle reads PD a fixed number of times and proposes nothing."""
    async with agent_env(healthy_model()) as env:
        report = await env.loop.run_once()
        assert report.findings == () and report.proposals == () and report.opened_tickets == ()
        assert report.read_errors == ()
        assert report.pd_requests == len(env.pd_requests) == READS
        assert all(r.method == "GET" for r in env.pd_requests)
        assert await open_findings_summary(env.store) == []


# --- each finding on the simulator -----------------------------------------------------------------


async def test_down_store_past_max_store_down_time_is_offlined_never_evicted() -> None:
    """Store 5 crashed an hour ago and leads 0 regions: the agent proposes offline-store so PD replaces
    its replicas (it may, under a policy that lets it propose irreversible actions), not evict-leader."""
    model = healthy_model()
    model.fail_store(5)
    async with agent_env(model, policy=MAY_PROPOSE_ALL) as env:
        report = await env.loop.run_once()
        [proposal] = report.proposals
        assert env.posted() == [(ActionType.OFFLINE_STORE, {"store_id": 5})]
        assert env.notifier.published[0][1] == PROPOSAL_CHANNEL
        request = proposal.request
        assert (request.requester, request.source) == ("agent", Source.AGENT)
        assert proposal.state is ProposalState.PENDING
        assert "longer than max-store-down-time (30m0s)" in request.rationale
        evidence = {e.label: e.value for e in request.evidence}
        assert evidence["store 5 state"] == "Down" and evidence["store 5 last heartbeat"] == "1h00m ago"
        assert int(evidence["regions with a replica down on store 5"]) > 0
        assert all(e.source.startswith("GET /pd/api/v1/") for e in request.evidence if e.source)
        [ticket] = await env.store.list_open_tickets()
        assert ticket.key == "store-down:5" and request.ticket_id == ticket.id
        [line] = await open_findings_summary(env.store)
        assert line.startswith(f"#{ticket.id} Store 5 has been down for 1h00m")


async def test_down_store_under_the_default_policy_is_a_ticket_without_evict_leader() -> None:
    """The default policy keeps irreversible actions from the agent: the finding is ticketed, and no
    evict-leader is proposed in its place."""
    model = healthy_model()
    model.fail_store(5)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert env.posted() == []
        [skip] = report.skipped
        assert skip.action is ActionType.OFFLINE_STORE and "policy" in skip.reason
        assert [t.key for t in await env.store.list_open_tickets()] == ["store-down:5"]


async def test_leader_imbalance_with_balance_leader_enabled_moves_no_leader() -> None:
    """Store 1 leads half of all regions while balance-leader-scheduler runs: PD is on it, nothing is
    moved by hand; the ticket says why."""
    model = healthy_model()
    model.make_leader_imbalance(1, share=0.5)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == ["leader-imbalance:cluster"]
        assert env.posted() == []
        assert "PD is balancing leaders by itself" in report.skipped[0].reason


async def test_leader_imbalance_with_balance_leader_paused_proposes_resuming_it() -> None:
    model = healthy_model()
    model.make_leader_imbalance(1, share=0.5)
    model.schedulers.pause(BALANCE_LEADER, 3600)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert {f.key for f in report.findings} == {
            "leader-imbalance:cluster",
            f"scheduler-paused:{BALANCE_LEADER}",
        }
        assert env.posted() == [(ActionType.RESUME_SCHEDULER, {"scheduler": BALANCE_LEADER})]


async def test_low_space_store_is_reported_without_moving_data() -> None:
    """Store 2 is 90% full: a finding that asks for capacity; PD already stops placing replicas there."""
    model = healthy_model()
    model.set_store_capacity(2, capacity=1024 * 1024 * MIB, available=100 * 1024 * MIB)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == ["store-low-space:2"]
        assert env.posted() == []


async def test_hot_regions_are_split_when_large_and_a_small_one_is_a_hot_key() -> None:
    """Regions of tens of MiB writing or serving 2 MiB/s are split; a ~1 MiB region with 0 keys as hot
    is a hot key, not split."""
    model = healthy_model()
    write, read, tiny = sorted(model.regions)[17], sorted(model.regions)[23], sorted(model.regions)[31]
    model.set_region_size(write, size_mib=90, keys=900_000)
    model.set_region_size(read, size_mib=90, keys=900_000)
    model.set_region_size(tiny, size_mib=1, keys=0)
    model.set_region_flow(write, written_bytes=120 * MIB, written_keys=200_000)
    model.set_region_flow(tiny, written_bytes=100 * MIB, written_keys=200_000)
    model.set_region_flow(read, read_bytes=120 * MIB, read_keys=200_000)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == [
            f"hot-write:{write}",
            f"hot-write:{tiny}",
            f"hot-read:{read}",
        ]
        assert env.posted() == [
            (ActionType.SPLIT_REGION, {"region_id": write, "policy": "approximate"}),
            (ActionType.SPLIT_REGION, {"region_id": read, "policy": "approximate"}),
        ]
        hot_key = report.findings[1]
        assert hot_key.title.startswith(f"Hot key: region {tiny}") and hot_key.proposals == ()


async def test_down_peer_on_a_live_store_is_replaced_one_step_at_a_time() -> None:
    """Region R's peer on Up store 2 is down: one add-peer on a store without a peer (one open
    proposal per finding); remove-peer comes once the region is back at full strength."""
    model = healthy_model()
    region_id = a_region(model, on=2)
    model.add_down_peer(region_id, 2)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == [f"down-peer:{region_id}"]
        [(add, add_params)] = env.posted()
        assert add is ActionType.ADD_PEER
        assert model.regions[region_id].peer_on(add_params["store_id"]) is None


async def test_pending_peers_pile_up_and_missing_peer_get_their_remedies() -> None:
    """Twelve pending replicas on store 3 lower its add-peer limit; a region one voter short gets one."""
    model = healthy_model()
    on_three = [r for r in sorted(model.regions) if model.regions[r].peer_on(3) is not None]
    for region_id in on_three[:12]:
        model.add_pending_peer(region_id, 3)
    short = a_region(model, on=5)
    model.remove_peer(short, 5)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert sorted(f.key for f in report.findings) == sorted([f"miss-peer:{short}", "pending-peer:3"])
        posted = dict((a.value, p) for a, p in env.posted())
        assert posted["set-store-limit"] == {"store_id": 3, "rate": 5.0, "limit_type": "add-peer"}
        assert model.regions[short].peer_on(posted["add-peer"]["store_id"]) is None


async def test_oversized_region_is_split() -> None:
    """A 1 GiB region (over TiKV's 144 MiB region-max-size) gets split-region."""
    model = healthy_model()
    big = sorted(model.regions)[42]
    model.set_region_size(big, size_mib=1024, keys=4_000_000)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == [f"oversized-region:{big}"]
        assert env.posted() == [(ActionType.SPLIT_REGION, {"region_id": big, "policy": "approximate"})]


async def test_evict_leader_left_on_an_up_store_gets_removed() -> None:
    """Someone evicted store 3's leaders with pd-ctl and forgot: remove-evict-leader is proposed."""
    model = healthy_model()
    async with agent_env(model) as env:
        # pd-ctl's `scheduler add evict-leader-scheduler 3` sends the request the catalog builds.
        evict = CATALOG[ActionType.EVICT_LEADER].pd_request({"store_id": 3})
        await env.client.send(evict, caller_id="pd-ctl")
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == ["stale-evict-leader:3"]
        assert env.posted() == [(ActionType.REMOVE_EVICT_LEADER, {"store_id": 3})]
        assert report.pd_requests == READS + 1  # the evict-leader store list is one more read


async def test_the_bots_own_unexpired_eviction_is_left_to_its_revert() -> None:
    """An evict-leader the bot executed with a revert time still ahead is not flagged as left behind."""
    model = healthy_model()
    async with agent_env(model) as env:
        request = ActionRequest(
            action=ActionType.EVICT_LEADER,
            params={"store_id": 4},
            requester=BOB.user_id,
            revert_after_seconds=3600,
        )
        proposal = await env.operations.propose(request, actor=BOB, channel=PROPOSAL_CHANNEL)
        assert proposal.revert_at == env.clock.now + timedelta(hours=1)
        result = await env.operations.approve(proposal.id, actor=PEOPLE)
        assert result.proposal.state is ProposalState.SUCCEEDED
        report = await env.loop.run_once()
        assert "stale-evict-leader:4" not in [f.key for f in report.findings]
        env.clock.advance(timedelta(hours=2))  # past the revert time, and the revert never happened
        report = await env.loop.run_once()
        assert "stale-evict-leader:4" in [f.key for f in report.findings]


# --- tickets, duplicates and the lifecycle ---------------------------------------------------------


def paused_model() -> ClusterModel:
    model = healthy_model()
    model.schedulers.pause(BALANCE_LEADER, 86_400)
    return model


async def test_the_same_finding_is_not_proposed_again_while_its_proposal_is_open() -> None:
    """Three cycles over a paused scheduler: one ticket, one proposal; the later cycles say why."""
    async with agent_env(paused_model()) as env:
        first = await env.loop.run_once()
        second = await env.loop.run_once()
        third = await env.loop.run_once()
        assert len(first.proposals) == 1 and second.proposals == () and third.proposals == ()
        assert [s.reason for s in second.skipped] == [
            f"proposal #{first.proposals[0].id} of ticket #{first.opened_tickets[0]} is still open"
        ]
        assert second.opened_tickets == () and len(await env.store.list_open_tickets()) == 1
        assert len(env.notifier.published) == 1


async def test_pending_proposal_is_superseded_when_its_finding_clears() -> None:
    """Someone resumes the scheduler with pd-ctl: the ticket closes and the pending resume proposal is
    superseded at once, its card rewritten to say the finding cleared (nobody has to click it)."""
    model = paused_model()
    async with agent_env(model) as env:
        first = await env.loop.run_once()
        [proposal] = first.proposals
        model.schedulers.pause(BALANCE_LEADER, 0)
        second = await env.loop.run_once()
        assert second.closed_tickets == first.opened_tickets
        assert second.superseded == (proposal.id,)
        stored = await env.operations.get(proposal.id)
        assert stored.state is ProposalState.SUPERSEDED
        assert env.notifier.updates[-1].id == proposal.id
        assert env.notifier.updates[-1].state is ProposalState.SUPERSEDED
        events = await env.store.events(proposal.id)
        assert "has cleared" in str(events[-1].detail)
        assert await env.store.list_open_tickets() == []


async def test_pending_proposal_the_finding_no_longer_makes_is_replaced() -> None:
    """balance-leader removed: a leader of store 1 is proposed to move. The leader then moves elsewhere:
    the stale card is superseded and the new proposal argues from the cluster as it is now."""
    model = healthy_model()
    model.make_leader_imbalance(1, share=0.5)
    model.schedulers.remove(BALANCE_LEADER)
    async with agent_env(model) as env:
        [first] = (await env.loop.run_once()).proposals
        region_id = first.request.params["region_id"]
        target = first.request.params["to_store_id"]
        assert isinstance(region_id, int) and isinstance(target, int)
        model.set_leader(region_id, target)
        second = await env.loop.run_once()
        assert second.superseded == (first.id,)
        [fresh] = second.proposals
        assert fresh.request.params["region_id"] != region_id
        assert f"region {fresh.request.params['region_id']}'s leader" in fresh.request.rationale


async def test_rejected_finding_cools_down_before_it_is_proposed_again() -> None:
    """After a person rejects the proposal, the agent waits ``cool_down`` before asking again."""
    settings = AgentSettings(interval=0.01, cool_down=timedelta(minutes=30))
    async with agent_env(paused_model(), settings=settings) as env:
        [proposal] = (await env.loop.run_once()).proposals
        await env.operations.reject(proposal.id, actor=PEOPLE, reason="planned maintenance")
        env.clock.advance(timedelta(minutes=10))
        soon = await env.loop.run_once()
        assert soon.proposals == () and "cooling down" in soon.skipped[0].reason
        env.clock.advance(timedelta(minutes=25))
        later = await env.loop.run_once()
        assert [p.request.action for p in later.proposals] == [ActionType.RESUME_SCHEDULER]


async def test_new_tickets_per_cycle_are_capped() -> None:
    """Twelve oversized regions with a cap of five: five tickets now, the rest in the next cycles."""
    model = healthy_model()
    for region_id in sorted(model.regions)[10:22]:
        model.set_region_size(region_id, size_mib=1024)
    async with agent_env(model, settings=AgentSettings(interval=0.01, max_new_tickets=5)) as env:
        first = await env.loop.run_once()
        assert len(first.findings) == 12 and len(first.opened_tickets) == 5 == len(first.proposals)
        second = await env.loop.run_once()
        assert len(second.opened_tickets) == 5
        third = await env.loop.run_once()
        assert len(third.opened_tickets) == 2 and len(await env.store.list_open_tickets()) == 12


# --- policy and refusals -----------------------------------------------------------------------------


async def test_action_the_policy_forbids_the_agent_is_never_posted() -> None:
    """With temporary actions closed to the agent, resume-scheduler is skipped, not posted."""
    policy = Policy.from_mapping({"tiers": {"temporary": {"agent_may_propose": False}}})
    async with agent_env(paused_model(), policy=policy) as env:
        report = await env.loop.run_once()
        assert report.proposals == () and env.notifier.published == []
        [skip] = report.skipped
        assert skip.action is ActionType.RESUME_SCHEDULER and "policy" in skip.reason
        assert [t.key for t in await env.store.list_open_tickets()] == [f"scheduler-paused:{BALANCE_LEADER}"]
        assert Tier.TEMPORARY.value in skip.reason


def oversized_with_down_peer() -> tuple[ClusterModel, int]:
    model = healthy_model()
    big = a_region(model, on=2)
    model.set_region_size(big, size_mib=1024)
    model.add_down_peer(big, 2)
    return model, big


async def test_preflight_refusal_is_logged_and_the_cycle_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    """The split of a region with a down replica is refused by preflight: logged, reported as skipped;
    the region's down replica still gets its add-peer."""
    model, big = oversized_with_down_peer()
    async with agent_env(model) as env:
        with caplog.at_level(logging.WARNING, logger="agent.loop"):
            report = await env.loop.run_once()
        assert [a for a, _ in env.posted()] == [ActionType.ADD_PEER]
        [skip] = [s for s in report.skipped if s.key == f"oversized-region:{big}"]
        assert skip.reason.startswith("refused by preflight")
        assert any("refused by preflight" in r.getMessage() for r in caplog.records)


async def test_refused_proposal_backs_off_instead_of_being_retried_every_cycle() -> None:
    """Nine minutes of 60 s cycles: the refused split is tried (and audited) at 0 and 5 minutes only,
    not nine times; the back-off doubles after each refusal."""
    model, big = oversized_with_down_peer()
    async with agent_env(model) as env:
        for _ in range(10):
            await env.loop.run_once()
            env.clock.advance(timedelta(seconds=60))
        refusals = [
            e
            for e in await env.store.query_audit(AuditQuery(limit=1000))
            if e.action == ActionType.SPLIT_REGION.value
            and (e.result_json or {}).get("refused") == "preflight"
        ]
        assert len(refusals) == 2
        report = env.loop.last_report
        assert report is not None
        [skip] = [s for s in report.skipped if s.key == f"oversized-region:{big}"]
        assert "backing off until" in skip.reason and "2 time(s)" in skip.reason


# --- bounded reads -----------------------------------------------------------------------------------


async def _one_cycle(regions: int) -> CycleReport:
    async with agent_env(healthy_model(stores=5, regions=regions)) as env:
        report = await env.loop.run_once()
        assert report.pd_requests == len(env.pd_requests)
        return report


async def test_pd_requests_per_cycle_do_not_grow_with_regions() -> None:
    """1,000 and 20,000 regions cost the same number of PD requests per cycle."""
    small = await _one_cycle(1_000)
    large = await _one_cycle(20_000)
    assert small.pd_requests == large.pd_requests == READS


# --- the loop itself -----------------------------------------------------------------------------------


async def test_run_cycles_until_stopped() -> None:
    """``run(stop)`` keeps cycling at its interval and returns once ``stop`` is set."""
    async with agent_env(paused_model()) as env:
        stop = asyncio.Event()
        reports: list[CycleReport] = []
        task = asyncio.create_task(env.loop.run(stop))
        while len(reports) < 3:
            await asyncio.sleep(0.005)
            if env.loop.last_report is not None and env.loop.last_report not in reports:
                reports.append(env.loop.last_report)
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        assert len(env.notifier.published) == 1  # three cycles, one proposal
