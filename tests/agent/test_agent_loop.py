"""The agent loop end to end on a real stack (see agent_support): each finding's proposals, tickets,
no duplicates, the policy, preflight refusals and PD reads that do not grow with the regions."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from agent_support import PROPOSAL_CHANNEL, agent_env, healthy_model

from actions.models import ActionType, Actor, ProposalState, Source, Tier
from actions.observe import HotKind, HotRegion
from actions.policy import Policy
from agent.findings import open_findings_summary
from agent.proposer import AgentSettings, CycleReport
from pd.observer import PDObserver
from pd.simulator import ClusterModel

PEOPLE = Actor(user_id="U0ALICE", name="alice")
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
        assert report.pd_requests == len(env.pd_requests) == 11
        assert all(r.method == "GET" for r in env.pd_requests)
        assert await open_findings_summary(env.store) == []


# --- each finding on the simulator -----------------------------------------------------------------


async def test_down_store_gets_evict_leader_posted_with_evidence() -> None:
    """Store 4 crashed an hour ago: one evict-leader proposal, by the agent, on a store-down:4 ticket."""
    model = healthy_model()
    model.fail_store(4)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        [proposal] = report.proposals
        assert env.posted() == [(ActionType.EVICT_LEADER, {"store_id": 4})]
        assert env.notifier.published[0][1] == PROPOSAL_CHANNEL
        request = proposal.request
        assert (request.requester, request.source) == ("agent", Source.AGENT)
        assert proposal.state is ProposalState.PENDING
        assert "Store 4" in request.rationale
        assert {e.label: e.value for e in request.evidence}["store 4 state"] == "Down"
        assert all(e.source.startswith("GET /pd/api/v1/") for e in request.evidence if e.source)
        [ticket] = await env.store.list_open_tickets()
        assert ticket.key == "store-down:4" and request.ticket_id == ticket.id
        [line] = await open_findings_summary(env.store)
        assert line.startswith(f"#{ticket.id} Store 4 is Down (store-down:4")


async def test_leader_imbalance_proposes_transfer_leader_off_the_busiest_store() -> None:
    """Store 1 leads half of all regions: a leader of store 1 moves to a store below the mean."""
    model = healthy_model()
    model.make_leader_imbalance(1, share=0.5)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        [(action, params)] = env.posted()
        assert action is ActionType.TRANSFER_LEADER
        region = model.regions[params["region_id"]]
        assert region.leader is not None and region.leader.store_id == 1
        assert region.voter_on(params["to_store_id"]) is not None
        assert [f.key for f in report.findings] == ["leader-imbalance:cluster"]


async def test_low_space_store_gets_a_store_limit() -> None:
    """Store 2 is 90% full: set-store-limit on its add-peer rate."""
    model = healthy_model()
    model.set_store_capacity(2, capacity=1024 * 1024 * MIB, available=100 * 1024 * MIB)
    async with agent_env(model) as env:
        await env.loop.run_once()
        assert env.posted() == [
            (ActionType.SET_STORE_LIMIT, {"store_id": 2, "rate": 1.0, "limit_type": "add-peer"})
        ]


async def test_hot_write_region_is_split_and_hot_read_region_scattered() -> None:
    """A region writing 2 MiB/s gets split-region; one serving 2 MiB/s of reads would get scatter-region,
    but PD refuses to scatter a hot region, so the preflight refuses it too and nothing is posted."""
    model = healthy_model()
    write, read = sorted(model.regions)[17], sorted(model.regions)[23]
    model.set_region_flow(write, written_bytes=120 * MIB, written_keys=200_000)
    model.set_region_flow(read, read_bytes=120 * MIB, read_keys=200_000)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == [f"hot-write:{write}", f"hot-read:{read}"]
        assert env.posted() == [(ActionType.SPLIT_REGION, {"region_id": write, "policy": "approximate"})]


async def test_down_peer_on_a_live_store_is_replaced() -> None:
    """Region R's peer on Up store 2 is down: add-peer on a store without a peer, then remove-peer on 2."""
    model = healthy_model()
    region_id = a_region(model, on=2)
    model.add_down_peer(region_id, 2)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == [f"down-peer:{region_id}"]
        (add, add_params), (remove, remove_params) = env.posted()
        assert (add, remove) == (ActionType.ADD_PEER, ActionType.REMOVE_PEER)
        assert model.regions[region_id].peer_on(add_params["store_id"]) is None
        assert remove_params == {"region_id": region_id, "store_id": 2}


async def test_pending_and_missing_peers_get_add_peer() -> None:
    """A pending peer and a region one voter short each get an add-peer on a store without its peers."""
    model = healthy_model()
    pending = a_region(model, on=3)
    model.add_pending_peer(pending, 3)
    short = a_region(model, on=5)
    model.remove_peer(short, 5)
    async with agent_env(model) as env:
        report = await env.loop.run_once()
        assert sorted(f.key for f in report.findings) == sorted(
            [f"miss-peer:{short}", f"pending-peer:{pending}"]
        )
        posted = env.posted()
        assert [a for a, _ in posted] == [ActionType.ADD_PEER, ActionType.ADD_PEER]
        for _, params in posted:
            assert model.regions[params["region_id"]].peer_on(params["store_id"]) is None


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
        await env.client.create_scheduler("evict-leader-scheduler", store_id=3)
        report = await env.loop.run_once()
        assert [f.key for f in report.findings] == ["stale-evict-leader:3"]
        assert env.posted() == [(ActionType.REMOVE_EVICT_LEADER, {"store_id": 3})]
        assert report.pd_requests == 12  # the evict-leader store list is one more read


async def test_the_bots_own_unexpired_eviction_is_left_to_its_revert() -> None:
    """An evict-leader the bot executed with a revert time still ahead is not flagged as left behind."""
    model = healthy_model()
    revert = AgentSettings(interval=0.01, revert_after={ActionType.EVICT_LEADER: 3600})
    model.fail_store(4)
    async with agent_env(model, settings=revert) as env:
        [proposal] = (await env.loop.run_once()).proposals
        assert proposal.revert_at == env.clock.now + timedelta(hours=1)
        result = await env.operations.approve(proposal.id, actor=PEOPLE)
        assert result.proposal.state is ProposalState.SUCCEEDED
        model.recover_store(4)
        report = await env.loop.run_once()
        assert "stale-evict-leader:4" not in [f.key for f in report.findings]
        env.clock.advance(timedelta(hours=2))  # past the revert time, and the revert never happened
        report = await env.loop.run_once()
        assert "stale-evict-leader:4" in [f.key for f in report.findings]


# --- tickets and duplicates ------------------------------------------------------------------------


async def test_the_same_finding_is_not_proposed_again_while_its_proposal_is_open() -> None:
    """Three cycles over a Down store: one ticket, one proposal; the later cycles say why they skipped."""
    model = healthy_model()
    model.fail_store(4)
    async with agent_env(model) as env:
        first = await env.loop.run_once()
        second = await env.loop.run_once()
        third = await env.loop.run_once()
        assert len(first.proposals) == 1 and second.proposals == () and third.proposals == ()
        assert [s.reason for s in second.skipped] == [
            f"proposal #{first.proposals[0].id} of ticket #{first.opened_tickets[0]} is still open"
        ]
        assert second.opened_tickets == () and len(await env.store.list_open_tickets()) == 1
        assert len(env.notifier.published) == 1


async def test_ticket_closes_when_the_finding_disappears() -> None:
    """The store comes back: its store-down ticket is closed; now leaderless, it is a new finding instead."""
    model = healthy_model()
    model.fail_store(4)
    async with agent_env(model) as env:
        first = await env.loop.run_once()
        model.recover_store(4)
        second = await env.loop.run_once()
        assert second.closed_tickets == first.opened_tickets
        assert [t.key for t in await env.store.list_open_tickets()] == ["leader-imbalance:cluster"]
        [line] = await open_findings_summary(env.store)
        assert "store 4 has 0" in line


async def test_rejected_finding_cools_down_before_it_is_proposed_again() -> None:
    """After a person rejects the proposal, the agent waits ``cool_down`` before asking again."""
    model = healthy_model()
    model.fail_store(4)
    settings = AgentSettings(interval=0.01, cool_down=timedelta(minutes=30))
    async with agent_env(model, settings=settings) as env:
        [proposal] = (await env.loop.run_once()).proposals
        await env.operations.reject(proposal.id, actor=PEOPLE, reason="planned maintenance")
        env.clock.advance(timedelta(minutes=10))
        soon = await env.loop.run_once()
        assert soon.proposals == () and "cooling down" in soon.skipped[0].reason
        env.clock.advance(timedelta(minutes=25))
        later = await env.loop.run_once()
        assert [p.request.action for p in later.proposals] == [ActionType.EVICT_LEADER]


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
    """With reversible actions closed to the agent, the Down store's evict-leader is skipped, not posted."""
    model = healthy_model()
    model.fail_store(4)
    policy = Policy.from_mapping({"tiers": {"reversible": {"agent_may_propose": False}}})
    async with agent_env(model, policy=policy) as env:
        report = await env.loop.run_once()
        assert report.proposals == () and env.notifier.published == []
        [skip] = report.skipped
        assert skip.action is ActionType.EVICT_LEADER and "policy" in skip.reason
        assert [t.key for t in await env.store.list_open_tickets()] == ["store-down:4"]
        assert Tier.REVERSIBLE.value in skip.reason


class _PhantomHotRegion:
    """Wraps the real observer and adds a hot region PD does not have, so preflight refuses it."""

    def __init__(self, inner: PDObserver) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def hot_regions(self, kind: HotKind) -> list[HotRegion]:
        real = await self._inner.hot_regions(kind)
        if kind is HotKind.READ:
            return real
        ghost = HotRegion(
            region_id=999_999,
            leader_store_id=1,
            store_ids=(1, 2, 3),
            hot_degree=9,
            flow_bytes=9e6,
            flow_keys=1,
        )
        return [ghost, *real]


async def test_preflight_refusal_is_logged_and_the_cycle_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    """A proposal PD refuses is logged and reported as skipped; the other findings still get theirs."""
    model = healthy_model()
    big = sorted(model.regions)[42]
    model.set_region_size(big, size_mib=1024)
    async with agent_env(model, observer_wrapper=_PhantomHotRegion) as env:
        with caplog.at_level(logging.WARNING, logger="agent.proposer"):
            report = await env.loop.run_once()
        assert env.posted() == [(ActionType.SPLIT_REGION, {"region_id": big, "policy": "approximate"})]
        [skip] = report.skipped
        assert skip.key == "hot-write:999999" and skip.reason.startswith("refused by preflight")
        assert any("refused by preflight" in r.getMessage() for r in caplog.records)


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
    assert small.pd_requests == large.pd_requests == 11


# --- the loop itself -----------------------------------------------------------------------------------


async def test_run_cycles_until_stopped() -> None:
    """``run(stop)`` keeps cycling at its interval and returns once ``stop`` is set."""
    model = healthy_model()
    model.fail_store(4)
    async with agent_env(model) as env:
        stop = asyncio.Event()
        reports: list[CycleReport] = []
        task = asyncio.create_task(env.loop.run(stop))
        while len(reports) < 3:
            await asyncio.sleep(0.005)
            if env.loop.last_report is not None and env.loop.last_report not in reports:
                reports.append(env.loop.last_report)
        stop.set()
        await asyncio.wait_for(task, timeout=2)
        assert len(env.notifier.published) == 1  # three cycles, one proposal
