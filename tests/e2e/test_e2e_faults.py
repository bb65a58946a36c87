"""PD failing under the bot: dying in the middle of a write, and hanging while people click."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from conftest import ALICE, BOB, CAROL, CHANNEL, E2E, eventually, open_e2e

from actions.models import ProposalState
from actions.ports import AuditQuery
from bot import texts
from bot.playground.relay import Delivery


async def _readyz(e2e: E2E) -> int:
    async with aiohttp.ClientSession() as session, session.get(e2e.bot.ops_url + "/readyz") as answer:
        return answer.status


async def test_pd_dying_mid_write_is_told_in_the_thread_and_audited(e2e: E2E) -> None:
    """PD goes away with the write in flight: the thread says so plainly, the audit log has the intent and
    its outcome, nothing is resent, and the bot keeps answering."""
    region, leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    proposal = await e2e.proposal(card)
    e2e.tap.die_on_write = True
    await e2e.click(BOB, card, texts.ActionId.APPROVE)

    reply = await e2e.fake.wait_for(
        lambda: next((r for r in e2e.replies(card) if f"#{proposal.id} unknown" in r.text), None), timeout=10
    )
    assert "PD does not report how the operator" in reply.text and "will not resend" in reply.text
    assert len(e2e.tap.writes()) == 1  # sent once, never again
    assert e2e.leader_of(region) == leader  # PD never received it
    stored = await e2e.bot.operations.get(proposal.id)
    assert stored.state is ProposalState.UNKNOWN
    rows = await e2e.bot.store.query_audit(AuditQuery(proposal_id=proposal.id))
    intent = next(r for r in rows if r.caller_id == f"tikv-chatops/{proposal.id}")
    assert intent.result_json is not None and intent.result_json.get("state") == "unknown"
    assert "Outcome unknown" in str(e2e.card(card).blocks)

    # The bot keeps serving while PD is away: health says so, commands are answered.
    assert await eventually(lambda: _is_not_ready(e2e), limit=30)  # the cached probe saw PD go
    status = await e2e.relay.command(ALICE, "status")
    assert status.ok, status.error
    answer = await e2e.fake.wait_for(
        lambda: [e for e in e2e.fake.ephemerals(user=ALICE) if e.text.startswith("Cluster status")],
        timeout=30,
    )
    assert "⚠️" in str(answer[-1].blocks)
    e2e.tap.down = e2e.tap.die_on_write = False
    assert await eventually(lambda: _is_healthy(e2e), limit=30)


async def _is_healthy(e2e: E2E) -> bool:
    return await _readyz(e2e) == 200


async def _is_not_ready(e2e: E2E) -> bool:
    return await _readyz(e2e) == 503


async def _audit_rows(e2e: E2E, count: int) -> bool:
    return len(await e2e.bot.store.query_audit(AuditQuery(limit=count))) >= count


@pytest.fixture
async def patient_e2e(tmp_path: Path) -> AsyncIterator[E2E]:
    """The bot waits 30 s for PD: a listener whose ack waited on PD would miss the relay's deadline."""
    async with open_e2e(tmp_path, PD_TIMEOUT="30") as env:
        yield env


async def test_every_listener_acks_without_waiting_while_pd_hangs(patient_e2e: E2E) -> None:
    """With PD holding every request, each command, click and submission is still acked in time."""
    e2e = patient_e2e
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
    other = await e2e.propose(ALICE, f"transfer-leader {region} {followers[1]}")
    third = await e2e.propose(ALICE, f"scatter-region {region}")
    for _ in range(21):  # enough audit rows for a second page
        assert (await e2e.relay.command(ALICE, f"dry-run scatter-region {region}")).ok
    await eventually(lambda: _audit_rows(e2e, 21))
    listing = await e2e.relay.command(BOB, "audit 30")
    assert listing.ok
    page = await e2e.fake.wait_for(
        lambda: next((e for e in e2e.fake.ephemerals(user=BOB) if e.text.startswith("Audit log")), None)
    )

    e2e.sim.faults.hang = True
    try:
        deliveries: list[Delivery] = []
        for text in (
            "status",
            f"region {region}",
            "store 1",
            "pending",
            "audit",
            "help",
            f"dry-run transfer-leader {region} {followers[0]}",
            f"transfer-leader {region} {followers[1]}",
            "undo 1",
            "no-such-command",
        ):
            deliveries.append(await e2e.relay.command(ALICE, text))
        deliveries.append(
            await e2e.relay.click(
                BOB, action_id=f"{texts.ActionId.PAGE}:2", channel_id=CHANNEL, message_ts=page.ts
            )
        )
        deliveries.append(await e2e.click(BOB, card, texts.ActionId.APPROVE))
        deliveries.append(await e2e.click(CAROL, other, texts.ActionId.REJECT))
        reject = await e2e.fake.wait_for(lambda: e2e.fake.modal(CAROL))
        deliveries.append(
            await e2e.relay.submit(
                CAROL, view_id=reject.id, values={texts.BlockId.REASON: {texts.INPUT_ACTION: "no"}}
            )
        )
        deliveries.append(await e2e.click(BOB, third, texts.ActionId.EDIT))
        edit = await e2e.fake.wait_for(lambda: e2e.fake.modal(BOB))
        deliveries.append(
            await e2e.relay.submit(
                BOB, view_id=edit.id, values={"param:region_id": {texts.INPUT_ACTION: "x"}}
            )
        )
        deliveries.append(
            await e2e.relay.submit(
                BOB, view_id=edit.id, values={"param:region_id": {texts.INPUT_ACTION: str(region)}}
            )
        )
    finally:
        e2e.sim.faults.hang = False
    await e2e.quiesce()
    slow = [(d.kind, round(d.elapsed, 3), d.error) for d in deliveries if not d.ok]
    assert slow == []
    assert {d.kind for d in deliveries} == {"slash_command", "block_actions", "view_submission"}
