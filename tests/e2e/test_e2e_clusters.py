"""Several clusters from one bot: two simulators as ``staging`` and ``prod`` behind one clusters file.

Every scenario drives the real composition root through signed requests; each simulator has its own
recording tap, so "which PD did the bot talk to" is read from real traffic.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from conftest import ALICE, BOB, CAROL, SECRET, PDTap, eventually, settings_for

from actions.models import ActionType, Proposal, ProposalState, Source
from actions.ports import AuditQuery
from bot import texts
from bot.clusters_file import ClustersError
from bot.main import RunningBot, running
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import PLAYGROUND_CHANNEL, Channel, Message
from bot.playground.relay import BotRelay
from pd.simulator import ClusterModel, SimulatorServer
from pd.simulator.seeded import PAUSED_SCHEDULER, seeded_model
from pd.simulator.topology import VOTER

STAGING_CHANNEL, PROD_CHANNEL = "C0STAGING", "C0PROD"
CHANNELS = (PLAYGROUND_CHANNEL, Channel(STAGING_CHANNEL, "staging-ops"), Channel(PROD_CHANNEL, "prod-ops"))


@dataclass
class Two:
    fake: FakeSlack
    staging: SimulatorServer
    prod: SimulatorServer
    staging_tap: PDTap
    prod_tap: PDTap
    bot: RunningBot
    relay: BotRelay

    def cards(self, channel: str) -> list[Message]:
        return [m for m in self.fake.messages(channel) if m.text.startswith("Proposal #")]

    async def proposal(self, card: Message) -> Proposal:
        async def find() -> Proposal | None:
            proposals = await self.bot.store.list_proposals(limit=500)
            return next((p for p in proposals if p.message_ts == card.ts), None)

        found: Proposal = await eventually(find)
        return found


def clusters_file(tmp_path: Path, staging_url: str, prod_url: str) -> Path:
    """staging and prod, each with its own channel; prod's reversible tier needs two approvals."""
    path = tmp_path / "clusters.yaml"
    path.write_text(
        f"""
default_cluster: staging
clusters:
  staging:
    pd: {staging_url}
    channel: {STAGING_CHANNEL}
  prod:
    pd: [{prod_url}]
    channel: {PROD_CHANNEL}
    policy:
      tiers:
        reversible: {{approvals: 2}}
""",
        encoding="utf-8",
    )
    return path


@asynccontextmanager
async def open_two(
    tmp_path: Path, *, staging: ClusterModel | None = None, prod: ClusterModel | None = None, **extra: str
) -> AsyncIterator[Two]:
    staging = staging or ClusterModel.generate(stores=5, regions=60, seed=7, step_delay=0.05)
    prod = prod or ClusterModel.generate(stores=5, regions=60, seed=8, step_delay=0.05)
    async with (
        FakeSlack(channels=CHANNELS) as fake,
        SimulatorServer(staging, tick_interval=0.02) as staging_sim,
        SimulatorServer(prod, tick_interval=0.02) as prod_sim,
    ):
        staging_tap, prod_tap = PDTap(target=staging_sim.url), PDTap(target=prod_sim.url)
        await staging_tap.start()
        await prod_tap.start()
        try:
            path = clusters_file(tmp_path, staging_tap.url, prod_tap.url)
            settings = settings_for(
                fake, staging_tap, tmp_path / "chatops.db", TIKV_CHATOPS_CLUSTERS=str(path), **extra
            )
            async with running(settings) as bot:
                async with BotRelay(fake, bot_url=bot.url, signing_secret=SECRET) as relay:
                    yield Two(fake, staging_sim, prod_sim, staging_tap, prod_tap, bot, relay)
        finally:
            await staging_tap.stop()
            await prod_tap.stop()


def healthy_region(model: ClusterModel) -> tuple[int, int, list[int]]:
    """A region with a leader and two followers on live stores: its id, its leader, its followers."""
    for region in sorted(model.regions.values(), key=lambda r: r.id):
        if region.leader is None or region.down_peers or region.pending_peers:
            continue
        followers = sorted(p.store_id for p in region.peers if p is not region.leader and p.role == VOTER)
        if len(followers) >= 2 and all(model.store(s).heartbeat_stopped_at is None for s in followers):
            return region.id, region.leader.store_id, followers
    raise AssertionError("no healthy region with two followers")


def _leader(model: ClusterModel, region: int) -> int | None:
    leader = model.region(region).leader
    return leader.store_id if leader is not None else None


def _shown(message: Message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def _region_reads(tap: PDTap, region: int) -> list[str]:
    return [s.path for s in tap.seen if s.method == "GET" and s.path.endswith(f"/region/id/{region}")]


async def test_a_dry_run_with_c_reads_the_named_clusters_pd_only(tmp_path: Path) -> None:
    """``/tikv -c staging dry-run …`` typed in prod's channel: staging's PD is read, prod's is not."""
    async with open_two(tmp_path) as two:
        region, _leader, followers = healthy_region(two.staging.model)
        text = f"-c staging dry-run transfer-leader {region} {followers[0]}"
        assert (await two.relay.command(ALICE, text, channel_id=PROD_CHANNEL)).ok
        parent = await two.fake.wait_for(
            lambda: next((m for m in two.fake.messages(PROD_CHANNEL) if "dry-run" in m.text), None)
        )
        reply = (await two.fake.wait_for(lambda: two.fake.thread(PROD_CHANNEL, parent.ts)[1:]))[0]
        assert "staging" in _shown(reply)
        assert _region_reads(two.staging_tap, region)
        assert _region_reads(two.prod_tap, region) == []
        assert two.staging_tap.writes() == [] and two.prod_tap.writes() == []


async def test_a_proposal_in_prods_channel_runs_on_prod_under_prods_policy(tmp_path: Path) -> None:
    """No ``-c`` in prod's channel: the card says prod, prod's policy asks two approvals, and the
    approved write reaches prod's PD only; every audit row of it names prod."""
    async with open_two(tmp_path) as two:
        region, _leader_store, followers = healthy_region(two.prod.model)
        staging_leader = _leader(two.staging.model, region)
        assert (
            await two.relay.command(
                ALICE, f"transfer-leader {region} {followers[0]}", channel_id=PROD_CHANNEL
            )
        ).ok
        [card] = await two.fake.wait_for(lambda: two.cards(PROD_CHANNEL) or None)
        proposal = await two.proposal(card)
        assert proposal.request.cluster == "prod" and proposal.approvals_required == 2
        assert "prod" in _shown(card)
        assert two.cards(STAGING_CHANNEL) == []

        for approver in (BOB, CAROL):
            delivery = await two.relay.click(
                approver, action_id=texts.ActionId.APPROVE, channel_id=PROD_CHANNEL, message_ts=card.ts
            )
            assert delivery.ok

        async def done() -> Proposal | None:
            stored = await two.bot.store.get_proposal(proposal.id)
            return stored if stored is not None and stored.state is ProposalState.SUCCEEDED else None

        await eventually(done, limit=15)
        writes = two.prod_tap.writes()
        assert [w.caller_id for w in writes] == [f"tikv-chatops/{proposal.id}"]
        assert two.staging_tap.writes() == []
        await eventually(lambda: _leader(two.prod.model, region) == followers[0], limit=10)
        assert _leader(two.staging.model, region) == staging_leader

        rows = await two.bot.store.query_audit(AuditQuery(proposal_id=proposal.id, limit=50))
        assert rows and all(row.request_json.get("cluster") == "prod" for row in rows)


async def test_a_staging_proposal_follows_staging_policy(tmp_path: Path) -> None:
    """The same action in staging's channel needs staging's one approval (the global default)."""
    async with open_two(tmp_path) as two:
        region, _leader, followers = healthy_region(two.staging.model)
        command = f"transfer-leader {region} {followers[0]}"
        assert (await two.relay.command(ALICE, command, channel_id=STAGING_CHANNEL)).ok
        [card] = await two.fake.wait_for(lambda: two.cards(STAGING_CHANNEL) or None)
        proposal = await two.proposal(card)
        assert proposal.request.cluster == "staging" and proposal.approvals_required == 1
        delivery = await two.relay.click(
            BOB, action_id=texts.ActionId.APPROVE, channel_id=STAGING_CHANNEL, message_ts=card.ts
        )
        assert delivery.ok
        await eventually(lambda: two.staging_tap.writes(), limit=10)
        assert two.prod_tap.writes() == []


async def test_an_unknown_cluster_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    """``-c nowhere``: a clear answer naming staging and prod; nothing proposed, nothing read or sent."""
    async with open_two(tmp_path) as two:
        before = len(two.staging_tap.seen), len(two.prod_tap.seen)
        assert (await two.relay.command(ALICE, "-c nowhere transfer-leader 2 3", channel_id=PROD_CHANNEL)).ok
        [answer] = await two.fake.wait_for(
            lambda: [e for e in two.fake.ephemerals(user=ALICE) if "nowhere" in e.text] or None
        )
        assert "`staging`" in answer.text and "`prod`" in answer.text
        assert await two.bot.store.list_proposals(limit=10) == []
        assert len(two.prod_tap.seen) == before[1]
        assert two.staging_tap.writes() == [] and two.prod_tap.writes() == []


async def test_metrics_show_each_cluster(tmp_path: Path) -> None:
    async with open_two(tmp_path) as two:
        region, _leader, followers = healthy_region(two.prod.model)
        assert (
            await two.relay.command(
                ALICE, f"transfer-leader {region} {followers[0]}", channel_id=PROD_CHANNEL
            )
        ).ok
        await two.fake.wait_for(lambda: two.cards(PROD_CHANNEL) or None)
        async with aiohttp.ClientSession() as session, session.get(two.bot.ops_url + "/metrics") as answer:
            text = await answer.text()
        assert 'tikv_chatops_proposals{cluster="prod",state="pending"} 1.0' in text
        assert 'tikv_chatops_proposals{cluster="staging",state="pending"} 0.0' in text

        # prod's PD goes away: its failed reads count under prod.
        two.prod_tap.down = True
        assert (await two.relay.command(BOB, "-c prod status", channel_id=STAGING_CHANNEL)).ok
        await two.fake.wait_for(lambda: two.fake.ephemerals(user=BOB) or None, timeout=15)
        async with aiohttp.ClientSession() as session, session.get(two.bot.ops_url + "/metrics") as answer:
            text = await answer.text()
        assert 'tikv_chatops_pd_errors_total{cluster="prod"' in text
        assert 'tikv_chatops_pd_errors_total{cluster="staging"' not in text


async def test_the_agent_watches_each_cluster(tmp_path: Path) -> None:
    """Both PDs have the same paused scheduler: one proposal per cluster, each in its own channel,
    each with a ticket of its own (the same finding in two clusters is two findings)."""
    async with open_two(
        tmp_path,
        staging=seeded_model(step_delay=0.05),
        prod=seeded_model(step_delay=0.05),
        AGENT_ENABLED="true",
        AGENT_INTERVAL="3600",
    ) as two:
        assert len(two.bot.agents) == 2

        async def both() -> list[Proposal] | None:
            found = [p for p in await two.bot.store.list_proposals(limit=50) if p.message_ts]
            return found if {p.request.cluster for p in found} == {"staging", "prod"} else None

        proposals = await eventually(both, limit=20)
        by_cluster = {p.request.cluster: p for p in proposals}
        assert len(proposals) == 2
        for cluster, channel in (("staging", STAGING_CHANNEL), ("prod", PROD_CHANNEL)):
            proposal = by_cluster[cluster]
            assert proposal.request.source is Source.AGENT
            assert proposal.request.action is ActionType.RESUME_SCHEDULER
            assert proposal.request.params == {"scheduler": PAUSED_SCHEDULER}
            assert proposal.channel == channel
        tickets = {t.key for t in await two.bot.store.list_open_tickets()}
        key = f"scheduler-paused:{PAUSED_SCHEDULER}"
        assert {f"{key}@staging", f"{key}@prod"} <= tickets
        # Neither PD was written by the agent.
        assert two.staging_tap.writes() == [] and two.prod_tap.writes() == []


async def test_a_proposal_of_a_cluster_no_longer_configured_is_refused(tmp_path: Path) -> None:
    """A database first used by a one-cluster bot ("default"): that proposal's Approve is refused by the
    bot that now serves staging and prod, naming them; nothing reaches either PD."""
    model = ClusterModel.generate(stores=5, regions=60, seed=7, step_delay=0.05)
    region, _leader, followers = healthy_region(model)
    async with FakeSlack(channels=CHANNELS) as fake, SimulatorServer(model, tick_interval=0.02) as sim:
        tap = PDTap(target=sim.url)
        await tap.start()
        try:
            settings = settings_for(fake, tap, tmp_path / "chatops.db")
            async with (
                running(settings) as bot,
                BotRelay(fake, bot_url=bot.url, signing_secret=SECRET) as relay,
            ):
                assert (
                    await relay.command(
                        ALICE, f"transfer-leader {region} {followers[0]}", channel_id=PROD_CHANNEL
                    )
                ).ok
                [card] = await fake.wait_for(
                    lambda: (
                        [m for m in fake.messages(PROD_CHANNEL) if m.text.startswith("Proposal #")] or None
                    )
                )
        finally:
            await tap.stop()
        async with SimulatorServer(
            ClusterModel.generate(stores=5, regions=60, seed=8), tick_interval=0.02
        ) as other:
            staging_tap, prod_tap = PDTap(target=sim.url), PDTap(target=other.url)
            await staging_tap.start()
            await prod_tap.start()
            try:
                path = clusters_file(tmp_path, staging_tap.url, prod_tap.url)
                settings = settings_for(
                    fake, staging_tap, tmp_path / "chatops.db", TIKV_CHATOPS_CLUSTERS=str(path)
                )
                async with (
                    running(settings) as bot,
                    BotRelay(fake, bot_url=bot.url, signing_secret=SECRET) as relay,
                ):
                    delivery = await relay.click(
                        BOB, action_id=texts.ActionId.APPROVE, channel_id=PROD_CHANNEL, message_ts=card.ts
                    )
                    assert delivery.ok
                    refusal = await fake.wait_for(
                        lambda: next((e for e in fake.ephemerals(user=BOB) if "`default`" in e.text), None)
                    )
                    assert "`staging`" in refusal.text and "`prod`" in refusal.text
                    [stored] = await bot.store.list_proposals(limit=5)
                    assert stored.state is ProposalState.PENDING
                    assert staging_tap.writes() == [] and prod_tap.writes() == []
            finally:
                await staging_tap.stop()
                await prod_tap.stop()


async def test_a_wrong_clusters_file_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "clusters.yaml"
    path.write_text("clusters:\n  prod:\n    pd: pd-1:2379\n", encoding="utf-8")
    async with FakeSlack() as fake:
        tap = PDTap(target="http://127.0.0.1:9")
        settings = settings_for(fake, tap, tmp_path / "chatops.db", TIKV_CHATOPS_CLUSTERS=str(path))
        with pytest.raises(ClustersError, match=r"clusters\.prod\.pd"):
            async with running(settings):
                pass
        assert not (tmp_path / "chatops.db").exists()


async def test_pending_and_audit_rows_name_the_cluster(tmp_path: Path) -> None:
    async with open_two(tmp_path) as two:
        region, _leader, followers = healthy_region(two.prod.model)
        command = f"transfer-leader {region} {followers[0]}"
        assert (await two.relay.command(ALICE, command, channel_id=PROD_CHANNEL)).ok
        [card] = await two.fake.wait_for(lambda: two.cards(PROD_CHANNEL) or None)
        proposal = await two.proposal(card)
        for text in ("pending", f"audit proposal {proposal.id}"):
            assert (await two.relay.command(BOB, text, channel_id=STAGING_CHANNEL)).ok
        answers = await two.fake.wait_for(lambda: e if len(e := two.fake.ephemerals(user=BOB)) >= 2 else None)
        for answer in answers:
            shown = answer.text + json.dumps(answer.blocks, ensure_ascii=False)
            assert "on `prod`" in shown, shown
