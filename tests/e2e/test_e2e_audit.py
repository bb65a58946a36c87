"""Issue 14's "Must show": every event of a proposal's life is in `/tikv audit`, in
`/tikv audit proposal N` and in both exports, and the exports verify against the hash chain."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from conftest import ALICE, BOB, CAROL, CHANNEL, E2E, eventually, open_e2e

from actions.models import ProposalState
from bot import cli, texts
from bot.playground.model import Message
from store import export


async def _listing(e2e: E2E, user: str, text: str) -> str:
    """`/tikv text` as ``user``: every page of the listing it answers with, as one text."""
    before = len(e2e.fake.ephemerals(user=user))
    assert (await e2e.relay.command(user, text)).ok
    first = await e2e.fake.wait_for(lambda: e2e.fake.ephemerals(user=user)[before:] or None, timeout=30)
    shown = [json.dumps(first[0].blocks, ensure_ascii=False)]
    page = 2
    while f"{texts.ActionId.PAGE}:{page}" in shown[-1]:
        count = len(e2e.fake.ephemerals(user=user))
        assert (
            await e2e.relay.click(
                user, action_id=f"{texts.ActionId.PAGE}:{page}", channel_id=CHANNEL, message_ts=first[0].ts
            )
        ).ok

        def turned(count: int = count, page: int = page) -> str | None:
            for e in e2e.fake.ephemerals(user=user)[count - 1 :]:
                text = json.dumps(e.blocks, ensure_ascii=False)
                if f"{texts.ActionId.PAGE}:{page - 1}" in text:
                    return text
            return None

        shown.append(await e2e.fake.wait_for(turned, timeout=30))
        page += 1
    return "\n".join(shown)


async def _finished(e2e: E2E, card: Message) -> bool:
    return (await e2e.proposal(card)).state is ProposalState.SUCCEEDED and any(
        "succeeded" in r.text for r in e2e.replies(card)
    )


async def test_every_event_of_a_proposals_life_is_audited_listed_and_exported(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("tiers:\n  config: {approvals: 1, ttl: 2s}\n", encoding="utf-8")
    async with open_e2e(tmp_path, TIKV_CHATOPS_POLICY=str(policy)) as e2e:
        region, _leader, followers = e2e.region_with_followers()
        # Propose; Bob edits it; Alice's own approval is refused; Carol's approval executes it.
        card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        executed = await e2e.proposal(card)
        await e2e.click(BOB, card, texts.ActionId.EDIT)
        modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(BOB))
        saved = await e2e.relay.submit(
            BOB, view_id=modal.id, values={"param:to_store_id": {texts.INPUT_ACTION: str(followers[1])}}
        )
        assert saved.ok
        await eventually(lambda: _revision(e2e, executed.id, 2))
        # Click the card as rewritten: a click on the old revision is (rightly) told it is out of date.
        await eventually(lambda: "revision 2" in json.dumps(e2e.card(card).blocks), limit=30)
        await e2e.click(ALICE, card, texts.ActionId.APPROVE)
        await e2e.fake.wait_for(
            lambda: [t for t in e2e.ephemeral_texts(ALICE) if "someone else has to approve it" in t]
        )
        await e2e.click(CAROL, card, texts.ActionId.APPROVE)
        await eventually(lambda: _finished(e2e, card), limit=15)

        # Another is rejected with a reason.
        second = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        rejected = await e2e.proposal(second)
        await e2e.click(CAROL, second, texts.ActionId.REJECT)
        reject = await e2e.fake.wait_for(lambda: e2e.fake.modal(CAROL))
        reason = {texts.BlockId.REASON: {texts.INPUT_ACTION: "not during the sale"}}
        assert (await e2e.relay.submit(CAROL, view_id=reject.id, values=reason)).ok
        await eventually(lambda: _state(e2e, rejected.id, ProposalState.REJECTED))

        # A config change nobody decides within its 2 s expires; a late click finds it expired.
        third = await e2e.propose(ALICE, "set-config leader-schedule-limit 8")
        expired = await e2e.proposal(third)
        await asyncio.sleep(2.5)
        await e2e.click(BOB, third, texts.ActionId.APPROVE)
        await eventually(lambda: _state(e2e, expired.id, ProposalState.EXPIRED), limit=30)

        # A dry-run.
        assert (await e2e.relay.command(ALICE, f"dry-run scatter-region {region}")).ok
        await eventually(lambda: _has_dry_run(e2e))
        await e2e.quiesce()

        # /tikv audit: newest first, every event, all pages.
        everything = await _listing(e2e, BOB, "audit 100")
        for words in (
            f"#{executed.id} transfer-leader",  # created
            "edited by <@U0BOB> to revision 2",
            f"#{executed.id} approval by <@U0ALICE> refused: You requested this action",
            f"#{executed.id} approval by <@U0CAROL>",
            "X-Caller-ID tikv-chatops/" + str(executed.id),
            f"#{rejected.id} rejected by <@U0CAROL>: not during the sale",
            f"#{expired.id} expired",
            "dry-run of scatter-region",
        ):
            assert words in everything, words
        assert everything.index("dry-run of scatter-region") < everything.index(f"#{expired.id} expired")

        # /tikv audit proposal N: the timeline, oldest first.
        timeline = await _listing(e2e, BOB, f"audit proposal {executed.id}")
        assert f"Timeline of proposal #{executed.id}" in timeline
        order = [
            "proposed by <@U0ALICE> from a slash command",
            "edited by <@U0BOB>",
            "refused",
            "approval by <@U0CAROL>",
            "ready to run",
            "about to send",
            "PD answered",
        ]
        positions = [timeline.index(words) for words in order]
        assert positions == sorted(positions), timeline
        assert "user <@U0CAROL>" not in timeline
        carol = await _listing(e2e, BOB, f"audit user <@{CAROL}|carol> since 1h")
        assert "rejected by <@U0CAROL>" in carol and "dry-run of scatter-region" not in carol

        # Both exports, from the bot's database, hold every event with readable columns and verify.
        db = str(tmp_path / "chatops.db")
        for fmt in ("jsonl", "csv"):
            out = tmp_path / f"audit.{fmt}"
            assert cli.main(["audit", "export", "--db", db, "--format", fmt, "--output", str(out)]) == 0
            with out.open(encoding="utf-8", newline="") as src:
                records = list(export.read(fmt, src))  # type: ignore[arg-type]
            events = {(r["proposal"], r["event"]) for r in records}
            for expected in (
                (executed.id, "created"),
                (executed.id, "edited"),
                (executed.id, "approval_refused"),
                (executed.id, "approval"),
                (executed.id, "approved"),
                (executed.id, "pd_request"),
                (executed.id, "pd_response"),
                (executed.id, "result"),
                (rejected.id, "rejected"),
                (expired.id, "expired"),
                (None, "dry_run"),
            ):
                assert expected in events, (fmt, expected)
            named = {r["actor"]: r["actor_name"] for r in records}
            assert named[CAROL] == "carol" and named[BOB] == "bob"
            response = next(r for r in records if r["event"] == "pd_response")
            caller = f"X-Caller-ID: tikv-chatops/{executed.id}"
            assert response["pd_request"] == f"POST /pd/api/v1/operators {caller}"
            assert response["request"]["pd_status"] == 200 and response["outcome"] == "succeeded"
            assert all(r["time"].endswith("Z") for r in records)
            assert export.verify_file(str(out)).ok
        assert cli.main(["audit", "verify", "--db", db]) == 0


async def _revision(e2e: E2E, proposal_id: int, revision: int) -> bool:
    return (await e2e.bot.operations.get(proposal_id)).revision == revision


async def _state(e2e: E2E, proposal_id: int, state: ProposalState) -> bool:
    return (await e2e.bot.operations.get(proposal_id)).state is state


async def _has_dry_run(e2e: E2E) -> bool:
    from actions.ports import AuditQuery

    return any(r.dry_run for r in await e2e.bot.store.query_audit(AuditQuery(limit=5)))
