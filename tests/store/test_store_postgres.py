"""What only the PostgreSQL store has to show: several connections and processes writing at once.

The contract tests (the rest of tests/store) run on both stores; these add the races SQLite's single
writer never lets happen, the database's own guards, leases, migrations and the backend choice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import store_builders as b
from pg import PostgresForTests

from actions.models import ActionApproval, Decision, ProposalState
from actions.ports import AuditQuery
from store.backend import is_postgres_url, open_store_at
from store.errors import MigrationError, StoreError, StoreUnavailable
from store.postgres import PostgresProposalStore, open_postgres_store
from store.postgres import audit as pg_audit
from store.postgres.db import postgres_migrations
from store.postgres.local import free_port
from store.sqlite import SqliteProposalStore


@pytest.fixture
async def dsn(postgres_server: PostgresForTests) -> AsyncIterator[str]:
    name = await postgres_server.fresh_database()
    yield postgres_server.dsn(name)
    await postgres_server.drop_database(name)


@pytest.fixture
async def replicas(dsn: str) -> AsyncIterator[list[PostgresProposalStore]]:
    """Five stores on one database, each with its own pool: five processes, as far as PostgreSQL knows."""
    opened = [await open_postgres_store(dsn, max_connections=10) for _ in range(5)]
    yield opened
    for one in opened:
        await one.aclose()


async def test_fifty_claims_from_separate_connections_succeed_exactly_once(
    replicas: list[PostgresProposalStore],
) -> None:
    proposal = await b.approved(replicas[0])
    claims = await asyncio.gather(
        *(
            replicas[i % 5].claim_for_execution(proposal.id, intent=b.entry(actor=f"exec-{i}"), now=b.T0)
            for i in range(50)
        )
    )
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1
    rows = b.intents(await replicas[1].query_audit(AuditQuery(proposal_id=proposal.id)))
    assert [r.id for r in rows] == winners
    moves = [e for e in await replicas[2].events(proposal.id) if e.to_state == ProposalState.EXECUTING]
    assert len(moves) == 1


async def test_fifty_approvals_from_separate_connections_approve_exactly_once(
    replicas: list[PostgresProposalStore],
) -> None:
    proposal = await b.pending(replicas[0], required=2)
    outcomes = await asyncio.gather(
        *(replicas[i % 5].add_approval(b.approval(proposal, f"U{i:02d}"), required=2) for i in range(50))
    )
    assert sum(o.value == "approved" for o in outcomes) == 1
    events = await replicas[3].events(proposal.id)
    assert [e.to_state for e in events].count(ProposalState.APPROVED) == 1
    assert (await replicas[4].get_proposal(proposal.id)).state is ProposalState.APPROVED  # type: ignore[union-attr]


async def test_a_quorum_reached_by_two_racing_approvers_is_never_lost(
    replicas: list[PostgresProposalStore],
) -> None:
    """Two approvers on two processes at once, quorum two: each sees the other's approval (the row
    lock orders them), so the proposal is approved every time, never left pending with two approvals."""
    for round_ in range(15):
        proposal = await b.pending(replicas[0], required=2)
        await asyncio.gather(
            replicas[1].add_approval(b.approval(proposal, f"UA{round_}"), required=2),
            replicas[2].add_approval(b.approval(proposal, f"UB{round_}"), required=2),
        )
        stored = await replicas[0].get_proposal(proposal.id)
        assert stored is not None and stored.state is ProposalState.APPROVED, round_


async def test_the_chain_verifies_after_concurrent_appends_from_every_replica(
    replicas: list[PostgresProposalStore],
) -> None:
    """Audit rows, transitions and claims from five pools at once still form one chain, ids 1…n."""
    proposals = [await b.approved(replicas[i % 5]) for i in range(5)]
    work: list[Any] = [replicas[i % 5].log_entry(b.entry(actor=f"U{i}")) for i in range(200)]
    work += [
        replicas[i].claim_for_execution(p.id, intent=b.entry(), now=b.T0) for i, p in enumerate(proposals)
    ]
    await asyncio.gather(*work)
    verdict = await replicas[0].verify_audit()
    assert verdict.ok, verdict.message
    ids = [e.id async for e in replicas[3].iter_audit()]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) >= 205


async def test_tampering_with_a_row_is_named(dsn: str, replicas: list[PostgresProposalStore]) -> None:
    await b.pending(replicas[0])  # an events row, and the log's first row
    for i in range(3):
        await replicas[0].log_entry(b.entry(actor=f"U{i}"))
    conn = await asyncpg.connect(dsn)
    try:
        with pytest.raises(asyncpg.RaiseError, match="only result_json and executed_at"):
            await conn.execute("UPDATE action_log SET actor = 'mallory' WHERE id = 3")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM action_log WHERE id = 3")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE events SET actor = 'mallory'")
        # Someone with the rights to switch the guards off still cannot hide it from the chain.
        await conn.execute("ALTER TABLE action_log DISABLE TRIGGER USER")
        await conn.execute("UPDATE action_log SET actor = 'mallory' WHERE id = 3")
    finally:
        await conn.close()
    verdict = await replicas[1].verify_audit()
    assert not verdict.ok and verdict.row_id == 3 and "altered" in verdict.message


async def test_the_audit_cli_verifies_the_chain_in_postgres(
    dsn: str, replicas: list[PostgresProposalStore], capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import cli

    await b.approved(replicas[0])
    url = dsn.replace("postgres@", "postgres:hunter2@")  # a password never reaches the output
    assert await asyncio.to_thread(cli.main, ["audit", "verify", "--db", url]) == 0
    said = capsys.readouterr()
    assert "chain intact" in said.out and "hunter2" not in said.out + said.err
    assert await asyncio.to_thread(cli.main, ["audit", "export", "--db", url]) == 1
    assert "only `audit verify` runs" in capsys.readouterr().err
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ALTER TABLE action_log DISABLE TRIGGER USER")
        newest = await conn.fetchval("SELECT max(id) FROM action_log")
        for table in ("action_log_regions", "action_log_stores"):
            await conn.execute(f"DELETE FROM {table} WHERE log_id = $1", newest)
        await conn.execute("DELETE FROM action_log WHERE id = $1", newest)
    finally:
        await conn.close()
    assert await asyncio.to_thread(cli.main, ["audit", "verify", "--db", url]) == 1
    assert "deleted from the end" in capsys.readouterr().err


async def test_an_appended_row_is_committed_before_log_entry_returns(
    dsn: str, replicas: list[PostgresProposalStore]
) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for i in range(5):
            log_id = await replicas[i].log_entry(b.entry(actor=f"U{i}"))
            assert await conn.fetchval("SELECT actor FROM action_log WHERE id = $1", log_id) == f"U{i}"
    finally:
        await conn.close()


async def test_concurrent_appends_share_commits(
    replicas: list[PostgresProposalStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real = pg_audit.insert_all

    async def counting(conn: asyncpg.Connection, rows: list[Any]) -> list[int]:
        batches.append(len(rows))
        return await real(conn, rows)

    monkeypatch.setattr(pg_audit, "insert_all", counting)
    ids = await asyncio.gather(*(replicas[0].log_entry(b.entry(actor=f"U{i}")) for i in range(200)))
    assert len(set(ids)) == 200
    assert sum(batches) == 200 and len(batches) < 20  # shared transactions, not one per row


async def test_a_row_the_database_refuses_fails_only_its_own_caller(
    replicas: list[PostgresProposalStore],
) -> None:
    """A NUL byte is text PostgreSQL refuses: that caller gets a StoreError, the batch's others are kept."""
    actors = ["U1", "U2", "U\x00BAD", "U3", "U4"]
    outcomes = await asyncio.gather(
        *(replicas[0].log_entry(b.entry(actor=a)) for a in actors), return_exceptions=True
    )
    failed = [a for a, o in zip(actors, outcomes, strict=True) if isinstance(o, Exception)]
    assert failed == ["U\x00BAD"] and isinstance(outcomes[2], StoreError)
    assert {e.actor for e in await replicas[1].query_audit(AuditQuery(limit=50))} == {"U1", "U2", "U3", "U4"}
    assert (await replicas[2].verify_audit()).ok


async def test_two_sweepers_expire_each_proposal_once(replicas: list[PostgresProposalStore]) -> None:
    made = [await b.pending(replicas[0], ttl=timedelta(minutes=1)) for _ in range(10)]
    later = b.T0 + timedelta(hours=1)
    swept = await asyncio.gather(*(r.expire_due(now=later) for r in replicas))
    assert sorted(p.id for batch in swept for p in batch) == [p.id for p in made]
    for proposal in made:
        states = [e.to_state for e in await replicas[1].events(proposal.id)]
        assert states.count(ProposalState.EXPIRED) == 1


async def test_a_replayed_slash_command_is_taken_once_across_replicas(
    replicas: list[PostgresProposalStore],
) -> None:
    window = timedelta(minutes=5)
    noted = await asyncio.gather(
        *(r.note_delivery(["trigger-1", "body-abc"], now=b.T0, window=window) for r in replicas * 4)
    )
    assert noted.count(True) == 1


async def test_one_open_ticket_per_key_across_replicas(replicas: list[PostgresProposalStore]) -> None:
    opened = await asyncio.gather(
        *(r.open_ticket(key="store-3-down", title="store 3 down", detail={}, now=b.T0) for r in replicas * 4)
    )
    assert len({t.id for t, _ in opened}) == 1 and [created for _, created in opened].count(True) == 1


async def test_one_slack_claim_wins_across_replicas(replicas: list[PostgresProposalStore]) -> None:
    from store.outbox import SlackDebtKind

    proposal = await b.pending(replicas[0])
    await replicas[0].owe_slack(proposal.id, SlackDebtKind.CARD, channel="C1", error="down", now=b.T0)
    claims = await asyncio.gather(
        *(
            r.claim_slack(proposal.id, SlackDebtKind.CARD, now=b.T0, stale_before=b.T0 - timedelta(minutes=1))
            for r in replicas * 4
        )
    )
    assert len([c for c in claims if c is not None]) == 1


async def test_a_rejection_racing_approvals_leaves_one_decision(
    replicas: list[PostgresProposalStore],
) -> None:
    proposal = await b.pending(replicas[0], required=1)
    rejection = ActionApproval(
        proposal_id=proposal.id,
        revision=1,
        approver="U0NO",
        decision=Decision.REJECT,
        reason="no",
        decided_at=b.T0 + timedelta(minutes=1),
    )
    await asyncio.gather(
        replicas[1].reject(rejection),
        *(replicas[i % 5].add_approval(b.approval(proposal, f"U{i}"), required=1) for i in range(10)),
    )
    moves = [e for e in await replicas[0].events(proposal.id) if e.from_state == ProposalState.PENDING]
    assert len(moves) == 1 and moves[0].to_state in (ProposalState.APPROVED, ProposalState.REJECTED)


# --- leases --------------------------------------------------------------------------------------------


async def test_a_lease_is_held_renewed_taken_over_and_released_with_growing_tokens(
    replicas: list[PostgresProposalStore],
) -> None:
    ttl = timedelta(seconds=10)
    first = await replicas[0].acquire_lease("agent", owner="r1", ttl=ttl, now=b.T0)
    assert first is not None and first.owner == "r1" and first.expires_at == b.T0 + ttl
    assert (
        await replicas[1].acquire_lease("agent", owner="r2", ttl=ttl, now=b.T0 + timedelta(seconds=5)) is None
    )
    renewed = await replicas[0].acquire_lease("agent", owner="r1", ttl=ttl, now=b.T0 + timedelta(seconds=5))
    assert renewed is not None and renewed.token == first.token
    taken = await replicas[1].acquire_lease("agent", owner="r2", ttl=ttl, now=b.T0 + timedelta(seconds=16))
    assert taken is not None and taken.owner == "r2" and taken.token == first.token + 1
    await replicas[0].release_lease("agent", owner="r1")  # not r1's any more: changes nothing
    assert (
        await replicas[0].acquire_lease("agent", owner="r1", ttl=ttl, now=b.T0 + timedelta(seconds=17))
        is None
    )
    await replicas[1].release_lease("agent", owner="r2")
    back = await replicas[0].acquire_lease("agent", owner="r1", ttl=ttl, now=b.T0 + timedelta(seconds=18))
    assert back is not None and back.token == taken.token + 1
    other = await replicas[2].acquire_lease("sweeper", owner="r3", ttl=ttl, now=b.T0)
    assert other is not None and other.token == 1  # leases are independent


async def test_fifty_replicas_racing_for_a_free_lease_give_it_to_one(
    replicas: list[PostgresProposalStore],
) -> None:
    leases = await asyncio.gather(
        *(
            replicas[i % 5].acquire_lease("catch-up", owner=f"r{i}", ttl=timedelta(seconds=30), now=b.T0)
            for i in range(50)
        )
    )
    held = [lease for lease in leases if lease is not None]
    assert len(held) == 1 and held[0].token == 1


# --- opening -------------------------------------------------------------------------------------------


async def test_replicas_opening_an_empty_database_together_migrate_it_once(
    postgres_server: PostgresForTests,
) -> None:
    conn = await asyncpg.connect(postgres_server.dsn("postgres"))
    try:
        await conn.execute("CREATE DATABASE empty_for_migration")
    finally:
        await conn.close()
    dsn = postgres_server.dsn("empty_for_migration")
    try:
        opened = await asyncio.gather(*(open_postgres_store(dsn, max_connections=2) for _ in range(4)))
        for one in opened:
            await one.aclose()
        conn = await asyncpg.connect(dsn)
        try:
            applied = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
            assert [row["version"] for row in applied] == [m.version for m in postgres_migrations()]
            await conn.execute("UPDATE schema_migrations SET checksum = 'edited'")
        finally:
            await conn.close()
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await open_postgres_store(dsn)
    finally:
        await postgres_server.drop_database("empty_for_migration")


async def test_an_unreachable_server_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="could not open the database"):
        await open_postgres_store(f"postgresql://postgres:secret@127.0.0.1:{free_port()}/x")


async def test_the_url_picks_the_backend(dsn: str, tmp_path: Any) -> None:
    assert is_postgres_url("postgresql://h/db") and is_postgres_url("postgres://h/db")
    assert not is_postgres_url(str(tmp_path / "chatops.db"))
    on_pg = await open_store_at(dsn)
    on_file = await open_store_at(str(tmp_path / "chatops.db"))
    try:
        assert isinstance(on_pg, PostgresProposalStore) and isinstance(on_file, SqliteProposalStore)
    finally:
        await on_pg.aclose()
        await on_file.aclose()


async def test_a_connection_the_server_dropped_while_idle_is_replaced(dsn: str) -> None:
    """A server restart or an idle-connection reaper between two calls costs no call."""
    store = await open_postgres_store(dsn, max_connections=1)
    try:
        await store.ping()
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        await store.ping()
        proposal = await b.pending(store)
        assert (await store.get_proposal(proposal.id)) is not None
    finally:
        await store.aclose()
