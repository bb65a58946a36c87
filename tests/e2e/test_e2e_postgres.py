"""The bot on PostgreSQL: ``TIKV_CHATOPS_DB=postgresql://…`` and the same flow, driven by signed requests."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from conftest import ALICE, BOB, open_e2e
from pg import PostgresForTests

from actions.models import ProposalState
from bot import texts
from bot.playground.model import Message
from store.postgres import PostgresProposalStore


async def test_a_proposal_is_approved_and_run_once_with_its_audit_in_postgres(
    tmp_path: Path, postgres_server: PostgresForTests
) -> None:
    name = await postgres_server.fresh_database()
    dsn = postgres_server.dsn(name)
    try:
        async with open_e2e(tmp_path, TIKV_CHATOPS_DB=dsn) as e2e:
            assert isinstance(e2e.bot.store, PostgresProposalStore)
            region, _leader, followers = e2e.region_with_followers()
            card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
            proposal = await e2e.proposal(card)
            await e2e.click(BOB, card, texts.ActionId.APPROVE)
            await e2e.click(BOB, card, texts.ActionId.APPROVE)  # a double click

            def finished() -> list[Message] | None:
                replies = e2e.replies(card)
                return replies if any("succeeded" in r.text for r in replies) else None

            await e2e.fake.wait_for(finished, timeout=15)
            writes = [(w.method, w.path, w.caller_id) for w in e2e.tap.writes()]
            assert writes == [("POST", "/pd/api/v1/operators", f"tikv-chatops/{proposal.id}")]
            assert (await e2e.bot.operations.get(proposal.id)).state is ProposalState.SUCCEEDED
            assert (await e2e.bot.store.verify_audit()).ok
            assert not (tmp_path / "chatops.db").exists()  # nothing went to the SQLite default
        # The rows are in PostgreSQL, readable by anyone with the DSN once the bot has stopped.
        conn = await asyncpg.connect(dsn)
        try:
            events = await conn.fetch(
                "SELECT event FROM action_log WHERE proposal_id = $1 ORDER BY id", proposal.id
            )
            state = await conn.fetchval("SELECT state FROM proposals WHERE id = $1", proposal.id)
        finally:
            await conn.close()
        assert state == "succeeded"
        names = [row["event"] for row in events]
        assert names[0] == "created" and "approved" in names and names.count("pd_request") == 1
        assert "pd_response" in names
    finally:
        await postgres_server.drop_database(name)
