"""The App Home tab: opening it publishes the viewer's proposals to approve and their own, with buttons
that work from there."""

from __future__ import annotations

from conftest import ALICE, BOB, E2E, eventually

from actions.models import ProposalState
from bot import texts


def _home_text(e2e: E2E, user: str) -> str:
    view = e2e.fake.home(user)
    return str(view.blocks) if view is not None else ""


async def test_the_home_tab_lists_what_waits_for_the_viewer_and_their_own_and_approves_from_there(
    e2e: E2E,
) -> None:
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)

    assert (await e2e.relay.home_opened(BOB)).ok
    await eventually(lambda: f"#{proposal.id}" in _home_text(e2e, BOB), limit=30)
    bob_home = e2e.fake.home(BOB)
    assert bob_home is not None and bob_home.spec["type"] == "home"
    shown = str(bob_home.blocks)
    waiting, own = shown.split(texts.HOME_OWN)
    assert f"#{proposal.id}" in waiting and texts.HOME_NONE_OWN in own
    assert texts.ActionId.APPROVE.value in waiting

    assert (await e2e.relay.home_opened(ALICE)).ok
    await eventually(lambda: f"#{proposal.id}" in _home_text(e2e, ALICE), limit=30)
    waiting, own = _home_text(e2e, ALICE).split(texts.HOME_OWN)
    assert texts.HOME_NONE_AWAITING in waiting and f"#{proposal.id}" in own  # not hers to approve

    # Bob approves from his Home: the proposal runs and his Home no longer lists it.
    delivery = await e2e.relay.click(BOB, action_id=texts.ActionId.APPROVE, view_id=bob_home.id)
    assert delivery.ok
    done = await eventually(lambda: _settled(e2e, proposal.id), limit=15)
    assert done
    await eventually(lambda: texts.HOME_NONE_AWAITING in _home_text(e2e, BOB), limit=30)


async def _settled(e2e: E2E, proposal_id: int) -> bool:
    state = (await e2e.bot.operations.get(proposal_id)).state
    return state in (ProposalState.EXECUTING, ProposalState.SUCCEEDED)
