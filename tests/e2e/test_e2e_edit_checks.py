"""Edit: PD's checks run in the submission's ack when PD answers in time, keeping the modal open."""

from __future__ import annotations

from conftest import ALICE, BOB, E2E, eventually

from bot import texts


async def test_an_edit_that_fails_pds_checks_keeps_the_modal_open_with_the_check_under_its_input(
    e2e: E2E,
) -> None:
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    stranger = next(s for s in sorted(e2e.model.stores) if e2e.model.region(region).peer_on(s) is None)
    await e2e.click(BOB, card, texts.ActionId.EDIT)
    modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(BOB))
    answer = await e2e.relay.submit(
        BOB, view_id=modal.id, values={"param:to_store_id": {texts.INPUT_ACTION: str(stranger)}}
    )
    ack = answer.json() or {}
    assert ack.get("response_action") == "errors" and set(ack["errors"]) == {"param:to_store_id"}
    assert ack["errors"]["param:to_store_id"].startswith("PD's checks refuse this: ")
    assert f"store {stranger}" in ack["errors"]["param:to_store_id"]
    shown = e2e.fake.modal(BOB)
    assert shown is not None and not shown.closed and "param:to_store_id" in shown.errors
    assert (await e2e.bot.operations.get(proposal.id)).revision == 1
    assert e2e.tap.writes() == []


async def test_when_pd_is_slow_the_modal_closes_and_the_outcome_says_the_checks_ran_later(e2e: E2E) -> None:
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    stranger = next(s for s in sorted(e2e.model.stores) if e2e.model.region(region).peer_on(s) is None)
    await e2e.click(BOB, card, texts.ActionId.EDIT)
    modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(BOB))
    e2e.sim.faults.hang = True
    try:
        answer = await e2e.relay.submit(
            BOB, view_id=modal.id, values={"param:to_store_id": {texts.INPUT_ACTION: str(stranger)}}
        )
        assert answer.ok and answer.body == ""
    finally:
        e2e.sim.faults.hang = False
    told = await eventually(
        lambda: [t for t in e2e.ephemeral_texts(BOB) if "took longer than 1.5 s" in t], limit=20
    )
    assert "Not changed" in told[0]
