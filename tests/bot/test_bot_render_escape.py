"""Nothing injects: every message and modal the bot renders, with hostile text in every field a person,
PD, the agent or Claude can fill, carries no Slack control sequence the bot did not write itself.

A control sequence is ``<…>``: ``<!channel>`` notifies everyone, ``<@U…>`` mentions, ``<#C…>`` names a
channel, ``<https://…|label>`` is a link under any label. The bot writes mentions of the people who
acted and dates; nothing else may come out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import bot_samples as samples
import pytest

from actions.catalog import CATALOG
from actions.models import (
    ActionApproval,
    AuditEntry,
    CheckResult,
    CheckStatus,
    Decision,
    Evidence,
    PreflightReport,
    ProposalState,
    Source,
    Ticket,
)
from actions.ports import AuditQuery
from bot.reads import RegionView, StatusView, StoreView
from bot.render.cluster import region_listing, status_listing, store_listing
from bot.render.dryrun import dry_run_header, dry_run_message
from bot.render.escape import code, escape, escape_clip, inline
from bot.render.help import action_help, help_message
from bot.render.kit import Message, validated_view
from bot.render.listing import listing_page, page_count
from bot.render.modals import ModalContext, edit_modal, reject_modal
from bot.render.notices import note, refusal, usage
from bot.render.proposal import progress_message, proposal_card, result_message
from bot.render.records import audit_listing, pending_listing
from pd.models import HealthInfo, MembersInfo, OperatorObject, RegionInfo, StoreInfo, StoresInfo

HOSTILE = "<!channel> <https://evil.example|Click to approve> <@U0CAROL> <#C0SECRET> & <!here>"
ACTORS = {"U0ALICE", "U0BOB"}
_CONTROL = re.compile(r"<[^<>]*>")
_DATE = re.compile(r"<!date\^\d+\^[^|<>]*\|[^<>]*>")


def _strings(node: Any) -> Iterator[str]:
    """The strings Slack reads as mrkdwn: the ``text`` of mrkdwn objects (plain_text objects, button
    values, metadata and input values are shown or kept literally, never parsed), and a bare string."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _strings(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _strings(value)


def injected(payload: Any) -> list[str]:
    """The control sequences in ``payload`` the bot did not write itself (mentions of actors, dates)."""
    found = []
    for text in _strings(payload):
        for match in _CONTROL.finditer(text):
            sequence = match.group()
            if not (_DATE.fullmatch(sequence) or sequence in {f"<@{u}>" for u in ACTORS}):
                found.append(sequence)
    return found


def _hostile_checks() -> PreflightReport:
    return PreflightReport(
        checks=tuple(
            CheckResult(name=HOSTILE, status=status, message=HOSTILE, data={"label": HOSTILE, HOSTILE: 1})
            for status in CheckStatus
        ),
        fingerprint="0123456789abcdef",
    )


def _hostile_proposal(state: ProposalState = ProposalState.PENDING, *, requester: str = "U0ALICE") -> Any:
    proposal = samples.proposal(
        "set-config isolation-level zone",
        state=state,
        preflight=_hostile_checks(),
        source=Source.AGENT,
        rationale=HOSTILE,
        evidence=(Evidence(label=HOSTILE, value=HOSTILE, source=HOSTILE),),
    )
    request = proposal.request.model_copy(
        update={
            "params": {"key": "isolation-level", "value": HOSTILE},
            "cluster": HOSTILE,
            "requester": requester,
        }
    )
    approvals: tuple[ActionApproval, ...] = ()
    if state is ProposalState.REJECTED:
        approvals = (samples.approval("U0BOB", Decision.REJECT, reason=HOSTILE),)
    elif state is not ProposalState.PENDING:
        approvals = (samples.approval("U0BOB"),)
    proposal = proposal.model_copy(update={"request": request, "approvals": approvals})
    if state in (ProposalState.SUCCEEDED, ProposalState.FAILED, ProposalState.UNKNOWN):
        result = samples.result(proposal, state=state, message=HOSTILE)
        result = result.model_copy(
            update={
                "pd_response": HOSTILE,
                "caller_id": HOSTILE,
                "verification": CheckResult(
                    name=HOSTILE, status=CheckStatus.WARN, message=HOSTILE, data={"x": HOSTILE}
                ),
            }
        )
        proposal = proposal.model_copy(update={"result": result})
    return proposal


def _ticket() -> Ticket:
    return Ticket(id=3, key=HOSTILE, title=HOSTILE, created_at=samples.NOW)


def _messages() -> Iterator[tuple[str, Message]]:
    for state in ProposalState:
        proposal = _hostile_proposal(state)
        yield f"card {state.value}", proposal_card(proposal, finding=_ticket())
        if proposal.result is not None:
            yield f"result {state.value}", result_message(proposal, proposal.result)
    yield "card of a requester that is not a user id", proposal_card(_hostile_proposal(requester=HOSTILE))
    yield "progress", progress_message(_hostile_proposal(ProposalState.EXECUTING), HOSTILE)

    report = samples.dry_run("set-config isolation-level zone", report=_hostile_checks())
    request = report.request.model_copy(
        update={"params": {"key": "isolation-level", "value": HOSTILE}, "cluster": HOSTILE}
    )
    spec = CATALOG[request.action]
    report = report.model_copy(
        update={
            "request": request,
            "pd_request": spec.pd_request(request.params),
            "pd_ctl": spec.pd_ctl(request.params),
        }
    )
    yield "dry-run", dry_run_message(report)

    entries = [
        AuditEntry(
            id=1,
            proposal_id=7,
            actor=HOSTILE,
            action=HOSTILE,
            request_json={"action": HOSTILE, "params": {"value": HOSTILE}},
            result_json={"state": "failed", "message": HOSTILE},
            caller_id=HOSTILE,
            created_at=samples.NOW,
        )
    ]
    yield from _pages("audit", audit_listing(AuditQuery(), entries))
    yield from _pages("pending", pending_listing([_hostile_proposal()]))

    stores = StoresInfo.model_validate(samples.fixture("stores.json")).stores
    hostile_stores = tuple(
        s.model_copy(
            update={
                "store": s.store.model_copy(
                    update={"address": HOSTILE, "state_name": HOSTILE, "version": HOSTILE}
                )
            }
        )
        for s in stores
    )
    operators = tuple(
        OperatorObject.model_validate(o).model_copy(update={"desc": HOSTILE, "brief": HOSTILE})
        for o in samples.fixture("operators_object.json")
    )
    members = MembersInfo.model_validate(samples.fixture("members.json"))
    assert members.leader is not None
    members = members.model_copy(update={"leader": members.leader.model_copy(update={"name": HOSTILE})})
    status = StatusView(
        stores=hostile_stores,
        health=tuple(HealthInfo.model_validate(h) for h in samples.fixture("health.json")),
        members=members,
        operators=operators,
        schedulers=(HOSTILE,),
        tickets=(_ticket(),),
        errors=(HOSTILE,),
    )
    yield from _pages("status", status_listing(status))

    region = RegionInfo.model_validate(samples.fixture("region.json"))
    yield from _pages("region", region_listing(region.id, RegionView(region, operators[0])))
    store = StoreInfo.model_validate(samples.fixture("store.json"))
    store = store.model_copy(update={"store": store.store.model_copy(update={"address": HOSTILE})})
    yield from _pages("store", store_listing(store.store.id, StoreView(store, evicting_leaders=True)))

    yield "help", help_message(lambda _action: True)
    for action in CATALOG:
        yield f"help {action.value}", action_help(action)
    yield "note", note(HOSTILE)
    yield "usage", usage(HOSTILE, HOSTILE)
    yield "refusal", refusal(HOSTILE, report=_hostile_checks())


def _pages(name: str, listing: Any) -> Iterator[tuple[str, Message]]:
    for page in range(1, page_count(listing) + 1):
        yield f"{name} page {page}", listing_page(listing, page=page, command=HOSTILE)


MESSAGES = list(_messages())


@pytest.mark.parametrize(("name", "message"), MESSAGES, ids=[name for name, _ in MESSAGES])
def test_no_message_carries_a_control_sequence_the_bot_did_not_write(name: str, message: Message) -> None:
    payload = message.payload()
    assert injected(payload["blocks"]) == [], name
    assert injected(payload["text"]) == []  # the notification text is mrkdwn too


def test_the_hostile_text_is_shown_escaped_not_dropped() -> None:
    """The card still shows what was typed, as text: in the PD request, the pd-ctl line and the fallback."""
    payload = proposal_card(_hostile_proposal()).payload()
    blocks = json.dumps(payload["blocks"])
    assert escape(HOSTILE) in payload["text"]
    assert "```" in blocks and "&lt;!channel&gt;" in blocks and "&lt;@U0CAROL&gt;" in blocks


@pytest.mark.parametrize("state", [ProposalState.PENDING, ProposalState.SUCCEEDED])
def test_no_modal_carries_a_control_sequence_the_bot_did_not_write(state: ProposalState) -> None:
    proposal = _hostile_proposal(state)
    context = ModalContext.of(proposal)
    for view in (reject_modal(proposal, context), edit_modal(proposal, context)):
        assert injected(validated_view(view)) == []


def test_the_dry_run_line_in_the_channel_mentions_only_who_ran_it() -> None:
    line = dry_run_header("U0ALICE", f"dry-run set-config isolation-level {HOSTILE}")
    assert injected(line) == [] and line.startswith("<@U0ALICE>")


@pytest.mark.parametrize("limit", range(3, 40))
def test_clipping_escaped_text_never_leaves_a_control_character_or_half_an_entity(limit: int) -> None:
    for shown in (escape_clip(HOSTILE, limit), code(HOSTILE, limit + 8), inline(HOSTILE, limit + 2)):
        assert "<" not in shown and ">" not in shown
        assert not re.search(r"&[a-z]{0,3}…", shown)
    assert len(escape_clip(HOSTILE, limit)) <= limit


def test_a_card_still_fits_when_every_field_is_hostile() -> None:
    """Escaping lengthens text (``<`` is four characters); the card is still within Slack's limits."""
    proposal = _hostile_proposal()
    request = proposal.request.model_copy(
        update={"params": {"key": "isolation-level", "value": HOSTILE * 40}}
    )
    payload = proposal_card(proposal.model_copy(update={"request": request})).payload()
    assert injected(payload["blocks"]) == [] and injected(payload["text"]) == []
