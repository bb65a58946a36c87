"""Accountable edits, identity and scope, end to end: signed Slack requests against the simulator.

The cases of issue 11 this covers: Bob edits Alice's proposal (the card says so; Bob cannot approve;
the subject cannot change); Bob approving after the bot's own re-check revision; a Slack Connect
stranger approving; a card proposed for `staging` approved after a restart as `prod`; a modal opened on
an older revision; a replayed slash command; two undos of one proposal at once.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
from conftest import ALICE, BOB, CAROL, CHANNEL, E2E, SECRET, PDTap, eventually, settings_for

from actions.models import Proposal, ProposalState
from actions.ports import AuditQuery
from bot import texts
from bot.main import running
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Message, User
from bot.playground.relay import BotRelay
from bot.playground.signing import Actor, sign_request, slash_command_body
from pd.simulator import ClusterModel, SimulatorServer

ERIN = "U0ERIN"  # a person of another organisation, in the ops channel through Slack Connect


def _text(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def _at_revision(e2e: E2E, proposal_id: int, revision: int) -> Proposal | None:
    proposal = await e2e.bot.operations.get(proposal_id)
    return proposal if proposal.revision == revision else None


async def _edit(e2e: E2E, user: str, card: Message, values: dict[str, str]) -> dict[str, object]:
    """``user`` clicks Edit on ``card`` and submits ``values`` (parameter -> text); returns the ack."""
    await e2e.click(user, card, texts.ActionId.EDIT)
    modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(user))
    delivery = await e2e.relay.submit(
        user,
        view_id=modal.id,
        values={texts.PARAM_PREFIX + name: {texts.INPUT_ACTION: value} for name, value in values.items()},
    )
    assert delivery.ok, delivery
    return delivery.json() or {}


async def _told(e2e: E2E, user: str, fragment: str) -> list[str]:
    found: list[str] = await e2e.fake.wait_for(
        lambda: [t for t in e2e.ephemeral_texts(user) if fragment in t] or None, timeout=10
    )
    return found


async def test_bob_edits_alices_proposal_the_card_shows_it_and_bob_cannot_approve(e2e: E2E) -> None:
    """Case 2: the card names Bob and what he changed; Bob's Approve is refused; Carol's runs it."""
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    ack = await _edit(e2e, BOB, card, {"to_store_id": str(followers[1])})
    assert ack == {}
    await eventually(lambda: _at_revision(e2e, proposal.id, 2))
    line = f"Edited by <@{BOB}> (revision 2): to_store_id {followers[0]} → {followers[1]}"
    await eventually(lambda: line in _text(e2e.card(card).blocks))
    shown = _text(e2e.card(card).blocks)
    assert f"<@{ALICE}>" in shown  # still requested by Alice, and Bob's edit is beside it
    events = await e2e.bot.store.events(proposal.id)
    edit = next(e for e in events if e.revision == 2)
    assert edit.actor == BOB and edit.detail["changes"] == [
        {"name": "to_store_id", "before": followers[0], "after": followers[1]}
    ]
    audit = await e2e.bot.store.query_audit(AuditQuery(proposal_id=proposal.id))
    [kept] = [r for r in audit if r.event == "edited"]  # the timeline keeps the edit, its editor and diff
    assert kept.actor == BOB and kept.summary is not None
    assert f"to_store_id {followers[0]} → {followers[1]}" in kept.summary

    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    await _told(e2e, BOB, "You edited this proposal")
    assert (await e2e.bot.operations.get(proposal.id)).state is ProposalState.PENDING
    assert e2e.tap.writes() == []

    await e2e.click(CAROL, card, texts.ActionId.APPROVE)
    await eventually(lambda: e2e.leader_of(region) == followers[1], limit=10)
    assert len(e2e.tap.writes()) == 1


async def test_an_edit_cannot_change_what_the_proposal_is_about(e2e: E2E) -> None:
    """Case 2's second half: leader-schedule-limit cannot be edited into max-replicas 1 — inline, in the
    modal; the proposal stays revision 1 and nothing reaches PD."""
    card = await e2e.propose(ALICE, "set-config leader-schedule-limit 8")
    proposal = await e2e.proposal(card)
    ack = await _edit(e2e, BOB, card, {"key": "max-replicas", "value": "1"})
    assert ack.get("response_action") == "errors"
    errors = ack["errors"]
    assert isinstance(errors, dict) and set(errors) == {"param:key"}
    assert "not what the proposal is about" in errors["param:key"]
    shown = e2e.fake.modal(BOB)
    assert shown is not None and "param:key" in shown.errors  # the modal stays open with the error
    await e2e.quiesce()
    stored = await e2e.bot.operations.get(proposal.id)
    assert stored.revision == 1 and stored.request.params["key"] == "leader-schedule-limit"
    assert e2e.tap.writes() == []


async def test_bob_cannot_approve_after_the_bots_own_recheck_revision(e2e: E2E) -> None:
    """Case 3: Bob edits; the cluster moves, so Carol's Approve makes the bot save revision 3 with the same
    parameters; Bob's Approve of revision 3 is refused and nothing is sent."""
    region, leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    assert await _edit(e2e, BOB, card, {"to_store_id": str(followers[1])}) == {}
    await eventually(lambda: _at_revision(e2e, proposal.id, 2))
    # The card is rewritten just after the store: Carol clicks the revision-2 card, not the first one.
    await eventually(lambda: "revision 2" in _text(e2e.card(card).blocks))
    e2e.model.set_leader(region, followers[0])  # the leader moves by itself: the facts drift
    await e2e.click(CAROL, card, texts.ActionId.APPROVE)
    await _told(e2e, CAROL, "The cluster changed since this was checked")
    revised = await eventually(lambda: _at_revision(e2e, proposal.id, 3))
    assert revised.edits[-1].system and revised.request.params["to_store_id"] == followers[1]
    await eventually(lambda: "revision 3" in _text(e2e.card(card).blocks))

    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    await _told(e2e, BOB, "You edited this proposal")
    stored = await e2e.bot.operations.get(proposal.id)
    assert stored.state is ProposalState.PENDING and stored.approvals == ()
    assert e2e.tap.writes() == [] and e2e.leader_of(region) == followers[0] != leader


async def test_a_slack_connect_stranger_cannot_approve_or_propose(e2e: E2E) -> None:
    """Case 4: users.info says another team and is_stranger: Erin's approvals of a transfer-leader and of
    halt-scheduling are refused, as is her own proposal; nothing reaches PD."""
    e2e.fake.workspace.add_user(User(id=ERIN, name="erin", team_id="T0OTHERORG", is_stranger=True))
    region, leader, followers = e2e.region_with_followers()
    transfer = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    halt = await e2e.propose(ALICE, "set-config halt-scheduling true")
    for card in (transfer, halt):
        await e2e.click(ERIN, card, texts.ActionId.APPROVE)
    refusals = await e2e.fake.wait_for(
        lambda: (
            [t for t in e2e.ephemeral_texts(ERIN) if "not a member of this workspace" in t]
            if len([t for t in e2e.ephemeral_texts(ERIN) if "not a member" in t]) >= 2
            else None
        ),
        timeout=10,
    )
    assert len(refusals) == 2
    before = len(e2e.cards())
    assert (await e2e.relay.command(ERIN, f"transfer-leader {region} {followers[1]}")).ok
    await e2e.fake.wait_for(
        lambda: len([t for t in e2e.ephemeral_texts(ERIN) if "not a member" in t]) >= 3 or None
    )
    await e2e.quiesce()
    assert len(e2e.cards()) == before
    for card in (transfer, halt):
        stored = await e2e.proposal(card)
        assert stored.state is ProposalState.PENDING and stored.approvals == ()
    assert e2e.tap.writes() == [] and e2e.leader_of(region) == leader
    assert e2e.model.config.get("halt-scheduling") in (False, "false")


async def test_a_request_through_another_workspace_is_refused(e2e: E2E) -> None:
    """A payload whose team is not the installation's (Bob's account is fine) approves nothing."""
    region, leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    e2e.relay.payload_team_id = "T0ELSEWHERE"
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    await _told(e2e, BOB, "came from another workspace")
    assert (await e2e.proposal(card)).approvals == ()
    assert e2e.tap.writes() == [] and e2e.leader_of(region) == leader


async def test_a_staging_card_approved_after_a_restart_as_prod_is_refused(tmp_path: Path) -> None:
    """Case 5: the same database, the bot restarted with TIKV_CHATOPS_CLUSTER=prod: the staging card's
    Approve is refused, saying why, and PD sees no write."""
    model = ClusterModel.generate(stores=5, regions=30, seed=7, step_delay=0.05)
    db = tmp_path / "chatops.db"
    async with FakeSlack() as fake, SimulatorServer(model, tick_interval=0.02) as sim:
        tap = PDTap(target=sim.url)
        await tap.start()
        try:
            async with (
                running(settings_for(fake, tap, db, TIKV_CHATOPS_CLUSTER="staging")) as bot,
                BotRelay(fake, bot_url=bot.url, signing_secret=SECRET) as relay,
            ):
                e2e = E2E(fake, sim, tap, bot, relay)
                region, leader, followers = e2e.region_with_followers()
                card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
                proposal = await e2e.proposal(card)
                assert proposal.request.cluster == "staging"
            async with (
                running(settings_for(fake, tap, db, TIKV_CHATOPS_CLUSTER="prod")) as bot,
                BotRelay(fake, bot_url=bot.url, signing_secret=SECRET) as relay,
            ):
                e2e = E2E(fake, sim, tap, bot, relay)
                await e2e.click(BOB, card, texts.ActionId.APPROVE)
                [told] = await _told(e2e, BOB, "this bot serves `prod`")
                assert "cluster `staging`" in told
                stored = await bot.operations.get(proposal.id)
                assert stored.state is ProposalState.PENDING and stored.approvals == ()
                assert tap.writes() == [] and e2e.leader_of(region) == leader
        finally:
            await tap.stop()


async def test_a_modal_opened_on_an_older_revision_is_refused_inside_the_modal(e2e: E2E) -> None:
    """Bob opens Edit on revision 1; Carol saves revision 2; Bob's submission is refused as stale in his
    modal (inline), and so is a Reject modal opened before the edit."""
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    await e2e.click(BOB, card, texts.ActionId.EDIT)
    bobs = await e2e.fake.wait_for(lambda: e2e.fake.modal(BOB))
    await e2e.click(ALICE, card, texts.ActionId.REJECT)
    alices = await e2e.fake.wait_for(lambda: e2e.fake.modal(ALICE))
    assert await _edit(e2e, CAROL, card, {"to_store_id": str(followers[1])}) == {}
    await eventually(lambda: _at_revision(e2e, proposal.id, 2))

    stale = await e2e.relay.submit(
        BOB, view_id=bobs.id, values={"param:to_store_id": {texts.INPUT_ACTION: str(followers[0])}}
    )
    ack = stale.json() or {}
    assert ack.get("response_action") == "errors"
    assert "opened on revision 1" in str(ack["errors"]) and "now at revision 2" in str(ack["errors"])
    rejected = await e2e.relay.submit(
        ALICE, view_id=alices.id, values={texts.BlockId.REASON: {texts.INPUT_ACTION: "not now"}}
    )
    ack = rejected.json() or {}
    assert ack.get("response_action") == "errors" and "opened on revision 1" in str(ack["errors"])
    await e2e.quiesce()
    stored = await e2e.bot.operations.get(proposal.id)
    assert (stored.state, stored.revision) == (ProposalState.PENDING, 2)
    assert stored.request.params["to_store_id"] == followers[1]


async def test_a_replayed_slash_command_creates_nothing_new(e2e: E2E) -> None:
    """The same signed body twice, then the same trigger id in a new body: one proposal, one card; the
    replays are told "already received"."""
    region, _leader, followers = e2e.region_with_followers()
    actor = Actor(
        user_id=ALICE,
        user_name="alice",
        team_id="T0TIKV",
        team_domain="tikv-playground",
        api_app_id="A0TIKVOPS",
    )
    trigger = e2e.fake.issue_trigger(ALICE)

    def body(text: str) -> bytes:
        return slash_command_body(
            actor,
            text=text,
            channel_id=CHANNEL,
            channel_name="tikv-ops",
            response_url=e2e.fake.response_url(CHANNEL, ALICE),
            trigger_id=trigger,
        )

    first = body(f"transfer-leader {region} {followers[0]}")
    async with aiohttp.ClientSession() as session:
        for sent in (first, first, body(f"transfer-leader {region} {followers[1]}")):
            async with session.post(
                e2e.bot.url + "/slack/events", data=sent, headers=sign_request(SECRET, sent)
            ) as answer:
                assert answer.status == 200
    replays = await e2e.fake.wait_for(
        lambda: (
            [t for t in e2e.ephemeral_texts(ALICE) if t.startswith("Already received")]
            if len([t for t in e2e.ephemeral_texts(ALICE) if t.startswith("Already received")]) >= 2
            else None
        ),
        timeout=10,
    )
    assert len(replays) == 2
    await e2e.quiesce()
    assert len(await e2e.bot.store.list_proposals(limit=10)) == 1
    assert len(e2e.cards()) == 1


async def test_two_undos_at_once_make_one_inverse(e2e: E2E) -> None:
    """Two `/tikv undo N` at the same moment, with PD slow to answer the checks: the database keeps one
    open inverse; the other person is told which proposal already undoes it."""
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    await e2e.fake.wait_for(lambda: [r for r in e2e.replies(card) if "succeeded" in r.text], timeout=10)
    e2e.tap.read_delay = 0.3  # both undos pass the "is there one already?" read before either is stored
    first, second = await asyncio.gather(
        e2e.relay.command(BOB, f"undo {proposal.id}"), e2e.relay.command(CAROL, f"undo {proposal.id}")
    )
    assert first.ok and second.ok
    await e2e.fake.wait_for(
        lambda: (
            [t for t in e2e.ephemeral_texts(BOB) + e2e.ephemeral_texts(CAROL) if "already undoes" in t]
            or None
        ),
        timeout=15,
    )
    await e2e.quiesce()
    undos = [p for p in await e2e.bot.store.list_proposals(limit=10) if p.undo_of == proposal.id]
    assert len(undos) == 1 and undos[0].state is ProposalState.PENDING
