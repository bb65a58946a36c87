"""The requester is mentioned in the card's thread when their proposal will not run or did not work."""

from __future__ import annotations

from conftest import ALICE, BOB, CAROL, E2E, eventually

from bot import texts


async def test_a_rejection_mentions_the_requester_with_the_reason_once(e2e: E2E) -> None:
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    await e2e.click(CAROL, card, texts.ActionId.REJECT)
    modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(CAROL))
    delivery = await e2e.relay.submit(
        CAROL, view_id=modal.id, values={texts.BlockId.REASON: {texts.INPUT_ACTION: "not during the sale"}}
    )
    assert delivery.ok
    told = await eventually(
        lambda: [m for m in e2e.replies(card) if m.text.startswith(f"<@{ALICE}>, #")], limit=10
    )
    assert "rejected by <@U0CAROL>" in told[0].text and "not during the sale" in told[0].text
    await e2e.quiesce()
    assert len([m for m in e2e.replies(card) if m.text.startswith(f"<@{ALICE}>")]) == 1


async def test_a_superseded_proposal_mentions_the_requester(e2e: E2E) -> None:
    """The leader moved to the target before approval: the approval supersedes it, Alice is told."""
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    e2e.model.set_leader(region, followers[0])  # the cluster moves on its own
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    told = await eventually(
        lambda: [m for m in e2e.replies(card) if m.text.startswith(f"<@{ALICE}>, #")], limit=10
    )
    assert "no longer passes its checks" in told[0].text
    assert e2e.tap.writes() == []


async def test_an_outcome_in_doubt_mentions_the_requester(e2e: E2E) -> None:
    """PD goes away with the write in flight: the unknown outcome in the thread names Alice."""
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    e2e.tap.die_on_write = True
    await e2e.click(BOB, card, texts.ActionId.APPROVE)
    reply = await e2e.fake.wait_for(
        lambda: next((r for r in e2e.replies(card) if f"#{proposal.id} unknown" in r.text), None), timeout=10
    )
    assert f"<@{ALICE}>" in str(reply.blocks)
    e2e.tap.down = e2e.tap.die_on_write = False


async def test_the_proposed_note_links_the_channel_instead_of_showing_it_raw(e2e: E2E) -> None:
    """`<#C0OPS>` stays a link in the note to the requester (escaped, it showed as raw text)."""
    region, _leader, followers = e2e.region_with_followers()
    await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    notes = await eventually(
        lambda: [e for e in e2e.fake.ephemerals(user=ALICE) if e.text.startswith("Proposed #")], limit=10
    )
    shown = str(notes[-1].blocks)
    assert "<#C0OPS>" in shown and "&lt;#" not in shown
