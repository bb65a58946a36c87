"""The issue's "Must show": the bot served over HTTP, driven by signed Slack requests, against PD."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
from conftest import ALICE, BOB, CAROL, CHANNEL, E2E, SECRET, PDTap, eventually, settings_for

from actions.models import ProposalState
from actions.ports import AuditQuery
from bot import texts
from bot.main import running
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Message
from bot.playground.relay import BotRelay
from bot.playground.signing import Actor, sign_request, slash_command_body
from pd.simulator import ClusterModel, SimulatorServer
from tests.timing import RELAY_ACK_TIMEOUT


def _has_buttons(blocks: list[dict[str, object]]) -> bool:
    return any(b.get("type") == "actions" for b in blocks)


def _text(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def test_dry_run_answers_in_the_thread_and_never_writes(e2e: E2E) -> None:
    """Checks, the exact request and the pd-ctl line go to a thread; PD gets no write; an audit row."""
    region, leader, followers = e2e.region_with_followers()
    delivery = await e2e.relay.command(ALICE, f"dry-run transfer-leader {region} {followers[0]}")
    assert delivery.ok and delivery.status == 200
    parent = await e2e.fake.wait_for(
        lambda: next((m for m in e2e.fake.messages(CHANNEL) if "dry-run" in m.text), None)
    )
    reply = (await e2e.fake.wait_for(lambda: e2e.fake.thread(CHANNEL, parent.ts)[1:]))[0]
    shown = _text(reply.blocks)
    assert "POST /pd/api/v1/operators" in shown and f'\\"region_id\\": {region}' in shown
    assert f"operator add transfer-leader {region} {followers[0]}" in shown
    assert "✅" in shown and "reversible" in shown
    assert e2e.tap.writes() == [] and e2e.leader_of(region) == leader
    rows = await e2e.bot.store.query_audit(AuditQuery(limit=5))
    assert [r.dry_run for r in rows] == [True]


async def test_propose_approve_execute_and_report_in_the_thread(e2e: E2E) -> None:
    """Alice proposes, Bob approves; PD runs the operator; the card is rewritten; the thread says SUCCESS."""
    region, _leader, followers = e2e.region_with_followers()
    target = followers[0]
    card = await e2e.propose(ALICE, f"transfer-leader {region} {target}")
    assert _has_buttons(card.blocks)
    proposal = await e2e.proposal(card)
    await e2e.click(BOB, card, texts.ActionId.APPROVE)

    def finished() -> list[Message] | None:
        replies = e2e.replies(card)
        return replies if any("succeeded" in r.text for r in replies) else None

    replies = await e2e.fake.wait_for(finished, timeout=30)
    assert e2e.leader_of(region) == target
    progress = [r for r in replies if "Progress" in r.text]
    assert len(progress) == 1 and "SUCCESS" in progress[0].text  # one message, edited in place
    assert "SUCCESS" in _text(replies[-1].blocks) or "finished the operator" in replies[-1].text
    rewritten = e2e.card(card)
    assert not _has_buttons(rewritten.blocks)
    assert "approved by <@U0BOB>" in _text(rewritten.blocks) and "Succeeded" in _text(rewritten.blocks)
    writes = e2e.tap.writes()
    assert [(w.method, w.path, w.caller_id) for w in writes] == [
        ("POST", "/pd/api/v1/operators", f"tikv-chatops/{proposal.id}")
    ]
    stored = await e2e.bot.operations.get(proposal.id)
    assert stored.state is ProposalState.SUCCEEDED
    assert any("Approved and sent" in t for t in e2e.ephemeral_texts(BOB))


async def test_reject_asks_a_reason_and_rewrites_the_card(e2e: E2E) -> None:
    """Reject opens a modal; an empty reason is refused inline; the reason lands on the card; no write."""
    region, leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    await e2e.click(CAROL, card, texts.ActionId.REJECT)
    modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(CAROL))
    assert modal.callback_id == texts.CallbackId.REJECT
    empty = await e2e.relay.submit(
        CAROL, view_id=modal.id, values={texts.BlockId.REASON: {texts.INPUT_ACTION: ""}}
    )
    assert (empty.json() or {}).get("response_action") == "errors"
    delivery = await e2e.relay.submit(
        CAROL, view_id=modal.id, values={texts.BlockId.REASON: {texts.INPUT_ACTION: "not during the sale"}}
    )
    assert delivery.ok and delivery.body == ""
    proposal = await e2e.proposal(card)
    await eventually(lambda: "not during the sale" in _text(e2e.card(card).blocks))
    rewritten = e2e.card(card)
    assert not _has_buttons(rewritten.blocks) and "Rejected by <@U0CAROL>" in _text(rewritten.blocks)
    assert (await e2e.bot.operations.get(proposal.id)).state is ProposalState.REJECTED
    assert e2e.tap.writes() == [] and e2e.leader_of(region) == leader


async def test_edit_shows_inline_errors_then_saves_a_new_revision(e2e: E2E) -> None:
    """Invalid values come back under their inputs; valid ones make revision 2 and reset approvals."""
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    await e2e.click(BOB, card, texts.ActionId.EDIT)
    modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(BOB))
    bad = await e2e.relay.submit(
        BOB, view_id=modal.id, values={"param:to_store_id": {texts.INPUT_ACTION: "store-three"}}
    )
    ack = bad.json() or {}
    assert ack.get("response_action") == "errors" and set(ack["errors"]) == {"param:to_store_id"}
    shown = e2e.fake.modal(BOB)
    assert shown is not None and "param:to_store_id" in shown.errors
    assert (await e2e.bot.operations.get(proposal.id)).revision == 1
    good = await e2e.relay.submit(
        BOB, view_id=modal.id, values={"param:to_store_id": {texts.INPUT_ACTION: str(followers[1])}}
    )
    assert good.ok and good.body == ""
    revised = await eventually(lambda: _revised(e2e, proposal.id))
    assert revised.request.params["to_store_id"] == followers[1] and revised.approvals == ()
    await eventually(lambda: "revision 2" in _text(e2e.card(card).blocks))
    assert e2e.tap.writes() == []


async def _revised(e2e: E2E, proposal_id: int) -> object:
    proposal = await e2e.bot.operations.get(proposal_id)
    return proposal if proposal.revision == 2 else None


async def test_the_requester_cannot_approve_their_own_proposal(e2e: E2E) -> None:
    """Alice's Approve on her own card: an ephemeral refusal to her, nothing sent to PD, still pending."""
    region, leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    await e2e.click(ALICE, card, texts.ActionId.APPROVE)
    refusal = await e2e.fake.wait_for(
        lambda: [t for t in e2e.ephemeral_texts(ALICE) if "someone else has to approve" in t]
    )
    assert refusal
    proposal = await e2e.proposal(card)
    assert proposal.state is ProposalState.PENDING and proposal.approvals == ()
    assert e2e.tap.writes() == [] and e2e.leader_of(region) == leader
    assert _has_buttons(e2e.card(card).blocks)


ALICE_ACTOR = Actor(
    user_id=ALICE, user_name="alice", team_id="T0TIKV", team_domain="tikv-playground", api_app_id="A0TIKVOPS"
)


@pytest.mark.parametrize("how", ["unsigned", "wrong-signature", "six-minutes-old"])
async def test_unverified_requests_get_401_and_do_nothing(e2e: E2E, how: str) -> None:
    """Without Slack's exact signature nothing runs: no Web API call, no proposal, no PD write."""
    region, _leader, followers = e2e.region_with_followers()
    body = slash_command_body(
        ALICE_ACTOR,
        text=f"transfer-leader {region} {followers[0]}",
        channel_id=CHANNEL,
        channel_name="tikv-ops",
        response_url=e2e.fake.response_url(CHANNEL, ALICE),
        trigger_id=e2e.fake.issue_trigger(ALICE),
    )
    headers = {
        "unsigned": {"Content-Type": "application/x-www-form-urlencoded"},
        "wrong-signature": sign_request("not-our-secret", body),
        "six-minutes-old": sign_request(SECRET, body, timestamp=int(time.time()) - 360),
    }[how]
    async with aiohttp.ClientSession() as session:
        async with session.post(e2e.bot.url + "/slack/events", data=body, headers=headers) as answer:
            assert answer.status == 401
    await asyncio.sleep(0.2)
    assert [c.method for c in e2e.fake.calls() if c.method != "auth.test"] == []
    assert await e2e.bot.store.list_proposals(limit=5) == []
    assert e2e.tap.writes() == []


@pytest.mark.parametrize("clickers", [(BOB, CAROL), (BOB, BOB)], ids=["two-approvers", "one-impatient-user"])
async def test_a_double_click_writes_to_pd_once(e2e: E2E, clickers: tuple[str, str]) -> None:
    """Two Approve clicks arriving together: one PD write, one result; the other click is told why."""
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    first, second = await asyncio.gather(
        e2e.relay.click(
            clickers[0], action_id=texts.ActionId.APPROVE, channel_id=CHANNEL, message_ts=card.ts
        ),
        e2e.relay.click(
            clickers[1], action_id=texts.ActionId.APPROVE, channel_id=CHANNEL, message_ts=card.ts
        ),
    )
    assert first.ok and second.ok
    await e2e.fake.wait_for(lambda: [r for r in e2e.replies(card) if "succeeded" in r.text], timeout=30)
    assert len(e2e.tap.writes()) == 1
    proposal = await e2e.proposal(card)
    intents = [r for r in await e2e.bot.store.query_audit(AuditQuery(proposal_id=proposal.id)) if r.caller_id]
    assert len(intents) == 1
    told = e2e.ephemeral_texts(clickers[0]) + e2e.ephemeral_texts(clickers[1])
    assert any("already" in t for t in told), told
    assert len([r for r in e2e.replies(card) if "succeeded" in r.text]) == 1


async def test_dry_run_answers_only_the_caller_when_configured(tmp_path: Path) -> None:
    """DRY_RUN_EPHEMERAL=true: the report goes to the caller alone; the channel sees nothing."""
    model = ClusterModel.generate(stores=3, regions=10, seed=2, step_delay=0.05)
    async with FakeSlack() as fake, SimulatorServer(model, tick_interval=0.05) as sim:
        tap = PDTap(target=sim.url)
        await tap.start()
        try:
            settings = settings_for(fake, tap, tmp_path / "x.db", DRY_RUN_EPHEMERAL="true")
            async with (
                running(settings) as bot,
                BotRelay(
                    fake, bot_url=bot.url, signing_secret=SECRET, ack_timeout=RELAY_ACK_TIMEOUT
                ) as relay,
            ):
                region = min(model.regions)
                assert (await relay.command(ALICE, f"dry-run scatter-region {region}")).ok
                [report] = await fake.wait_for(lambda: fake.ephemerals(user=ALICE))
                assert report.text.startswith("Dry-run of") and "POST /pd/api/v1/operators" in str(
                    report.blocks
                )
                assert fake.messages(CHANNEL) == [] and tap.writes() == []
        finally:
            await tap.stop()


async def test_undo_proposes_the_inverse_as_a_new_card(e2e: E2E) -> None:
    """After a transfer-leader succeeds, `/tikv undo N` posts a card moving the leader back."""
    region, leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    await e2e.fake.wait_for(lambda: [r for r in e2e.replies(card) if "succeeded" in r.text], timeout=30)
    undo = await e2e.propose(BOB, f"undo {proposal.id}")
    shown = _text(undo.blocks)
    assert f"undoes #{proposal.id}" in shown and f"to store {leader}" in undo.text
    await e2e.fake.wait_for(lambda: [t for t in e2e.ephemeral_texts(BOB) if t.startswith("Proposed #2")])
