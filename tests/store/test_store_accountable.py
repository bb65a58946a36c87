"""Schema 0003: edit records, the expiry guard on approvals and claims, one open undo per proposal, and
remembered Slack deliveries."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
import store_builders as b

from actions.errors import InverseAlreadyOpen
from actions.models import ParamChange, ProposalEdit, ProposalState, Tier
from actions.ports import ApprovalOutcome, AuditQuery
from store.migrate import apply_migrations, load_migrations
from store.sqlite import SqliteProposalStore, open_store


async def test_a_revision_keeps_its_editor_and_changes_with_the_proposal(store: SqliteProposalStore) -> None:
    """Each revision's edit record is stored by the guarded revise and read back in order."""
    proposal = await b.pending(store)
    changed = b.request(params={"region_id": 12, "to_store_id": 4})
    by_bob = ProposalEdit(
        revision=2,
        editor="U0BOB",
        changes=(ParamChange(name="to_store_id", before=3, after=4),),
        at=b.T0 + timedelta(minutes=1),
    )
    await store.revise(
        proposal.id,
        expected_revision=1,
        request=changed,
        preflight=b.preflight("fp-2"),
        expires_at=proposal.expires_at,
        actor="U0BOB",
        now=b.T0 + timedelta(minutes=1),
        edit=by_bob,
    )
    by_bot = ProposalEdit(
        revision=3, editor="tikv-chatops/preflight", system=True, at=b.T0 + timedelta(minutes=2)
    )
    revised = await store.revise(
        proposal.id,
        expected_revision=2,
        request=changed,
        preflight=b.preflight("fp-3"),
        expires_at=proposal.expires_at,
        actor="tikv-chatops/preflight",
        now=b.T0 + timedelta(minutes=2),
        edit=by_bot,
    )
    assert revised is not None and revised.edits == (by_bob, by_bot)
    assert revised.editors == frozenset({"U0BOB"}) and revised.last_edit == by_bob
    assert (await store.get_proposal(proposal.id)) == revised
    with pytest.raises(ValueError):
        await store.revise(
            proposal.id,
            expected_revision=3,
            request=changed,
            preflight=b.preflight("fp-4"),
            expires_at=proposal.expires_at,
            actor="U0CAROL",
            now=b.T0,
            edit=by_bob,  # names another revision and editor
        )


async def test_an_approval_recorded_after_expires_at_expires_the_proposal(store: SqliteProposalStore) -> None:
    """The same statement that records an approval checks the TTL at the moment it is recorded."""
    proposal = await b.pending(store, ttl=timedelta(minutes=10))
    late = b.approval(proposal, "U0LATE").model_copy(update={"decided_at": b.T0 + timedelta(minutes=10)})
    assert await store.add_approval(late, required=1) is ApprovalOutcome.EXPIRED
    stored = await store.get_proposal(proposal.id)
    assert stored is not None and stored.state is ProposalState.EXPIRED and stored.approvals == ()
    last = (await store.events(proposal.id))[-1]
    assert (last.from_state, last.to_state) == ("pending", "expired")
    on_time = await b.pending(store, ttl=timedelta(minutes=10))
    just_in = b.approval(on_time, "U0QUICK").model_copy(
        update={"decided_at": b.T0 + timedelta(minutes=10) - timedelta(microseconds=1)}
    )
    assert await store.add_approval(just_in, required=1) is ApprovalOutcome.APPROVED


async def test_an_approved_proposal_past_expires_at_is_never_claimed(store: SqliteProposalStore) -> None:
    """The claim for execution is guarded on the TTL too: past it, nothing runs and it is expired."""
    proposal = await b.approved(store, ttl=timedelta(minutes=10))
    assert (
        await store.claim_for_execution(proposal.id, intent=b.entry(), now=b.T0 + timedelta(minutes=11))
        is None
    )
    stored = await store.get_proposal(proposal.id)
    assert stored is not None and stored.state is ProposalState.EXPIRED
    last = (await store.events(proposal.id))[-1]
    assert (last.from_state, last.to_state) == ("approved", "expired")
    rows = await store.query_audit(AuditQuery(proposal_id=proposal.id))
    assert [r for r in rows if r.event == "pd_request"] == []  # nothing was sent to PD


async def _undo(store: SqliteProposalStore, of: int) -> int:
    created = await store.create_proposal(
        request=b.request(),
        tier=Tier.REVERSIBLE,
        approvals_required=1,
        preflight=b.preflight(),
        expires_at=b.T0 + timedelta(hours=1),
        now=b.T0,
        undo_of=of,
    )
    return created.id


async def test_the_database_keeps_one_open_undo_per_proposal(store: SqliteProposalStore) -> None:
    """Two undos at once: one is stored, the other raises InverseAlreadyOpen; once the first is closed,
    another may be made."""
    original = await b.pending(store)
    outcomes = await asyncio.gather(
        _undo(store, original.id), _undo(store, original.id), return_exceptions=True
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["InverseAlreadyOpen", "int"]
    refused = next(o for o in outcomes if isinstance(o, InverseAlreadyOpen))
    assert refused.undo_of == original.id
    first = next(o for o in outcomes if isinstance(o, int))
    await store.transition(
        first, expected=ProposalState.PENDING, new=ProposalState.REJECTED, actor="U0X", now=b.T0
    )
    assert await _undo(store, original.id) > first


async def test_a_delivery_is_remembered_inside_its_window_and_pruned_after(
    store: SqliteProposalStore,
) -> None:
    """A key seen within the window is a replay; any one shared key is enough; old keys are pruned."""
    window = timedelta(minutes=10)
    assert await store.note_delivery(["trigger:1", "body:a"], now=b.T0, window=window)
    assert not await store.note_delivery(
        ["trigger:1", "body:b"], now=b.T0 + timedelta(minutes=1), window=window
    )
    assert not await store.note_delivery(["body:a"], now=b.T0 + timedelta(minutes=9), window=window)
    assert await store.note_delivery(["trigger:2"], now=b.T0 + timedelta(minutes=9), window=window)
    assert await store.note_delivery(["trigger:1", "body:a"], now=b.T0 + timedelta(minutes=11), window=window)


def _row(conn: sqlite3.Connection, *, state: str, undo_of: int | None) -> int:
    at = "2026-11-28T12:00:00.000000Z"
    cursor = conn.execute(
        "INSERT INTO proposals (state, fingerprint, tier, approvals_required, request_json,"
        " original_params_json, requester, source, action, created_at, updated_at, expires_at, undo_of)"
        " VALUES (?, 'fp', 'reversible', 1, ?, '{}', 'U0X', 'human', 'transfer-leader', ?, ?, ?, ?)",
        (state, b.request().model_dump_json(), at, at, "2026-11-28T13:00:00.000000Z", undo_of),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def test_migrating_a_database_with_two_open_undos_closes_the_newer_pending_one(tmp_path: Path) -> None:
    """0003 can only build its unique index once a database from before it holds one open undo per
    proposal: the newer pending duplicates are superseded, with their events row; nothing else moves."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    with closing(conn):
        apply_migrations(conn, load_migrations()[:2])
        original = _row(conn, state="succeeded", undo_of=None)
        first = _row(conn, state="approved", undo_of=original)
        second = _row(conn, state="pending", undo_of=original)
        unrelated = _row(conn, state="pending", undo_of=None)
    store = await open_store(str(path))
    try:
        states = {p.id: p.state for p in await store.list_proposals(limit=10)}
        assert states == {
            original: ProposalState.SUCCEEDED,
            first: ProposalState.APPROVED,
            second: ProposalState.SUPERSEDED,
            unrelated: ProposalState.PENDING,
        }
        [moved] = await store.events(second)
        assert (moved.from_state, moved.to_state, moved.actor) == (
            "pending",
            "superseded",
            "tikv-chatops/migration",
        )
        with pytest.raises(InverseAlreadyOpen):
            await _undo(store, original)
    finally:
        await store.aclose()
