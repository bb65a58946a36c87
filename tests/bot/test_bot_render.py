"""Rendering: every message and modal the bot sends passes slack_sdk's validation and Slack's limits."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import bot_samples as samples
import pytest

from actions.catalog import CATALOG
from actions.models import ActionType, CheckStatus, Decision, Evidence, ProposalState, Source, Ticket
from actions.ports import AuditQuery
from bot import texts
from bot.playground.limits import check_blocks, check_view
from bot.reads import RegionView, StatusView, StoreView
from bot.render.checks import details_message
from bot.render.cluster import region_listing, status_listing, store_listing
from bot.render.dryrun import dry_run_message
from bot.render.help import action_help, help_message
from bot.render.kit import MESSAGE_BLOCKS, Message, clip, validated_view
from bot.render.listing import ROWS_PER_PAGE, Listing, PageRef, listing_page, page_count
from bot.render.modals import ModalContext, edit_errors, edit_modal, edit_params, reject_modal
from bot.render.notices import refusal, usage
from bot.render.proposal import parse_button_value, progress_message, proposal_card, result_message
from bot.render.records import audit_listing, pending_listing
from pd.models import HealthInfo, MembersInfo, OperatorObject, RegionInfo, StoreInfo, StoresInfo

# Slack reports msg_blocks_too_long well below the sum of the per-block limits (about 13k characters).
TEXT_BUDGET = 12_000


def _texts(node: Any) -> int:
    if isinstance(node, dict):
        own = len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(_texts(v) for k, v in node.items() if k != "text" or not isinstance(v, str))
    if isinstance(node, list):
        return sum(_texts(v) for v in node)
    return 0


def assert_sendable(message: Message) -> dict[str, Any]:
    """What Slack would accept: slack_sdk validation, the fake's limit checks, the overall budget."""
    payload = message.payload()
    assert payload["text"]
    assert len(payload["text"]) <= 3000
    assert len(payload["blocks"]) <= MESSAGE_BLOCKS
    assert check_blocks(payload["blocks"]) == []
    assert _texts(payload["blocks"]) <= TEXT_BUDGET
    return payload


def _buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def _all_text(payload: dict[str, Any]) -> str:
    """Every string in the blocks (texts, values, ids), newline-separated."""
    return "\n".join(_strings(payload["blocks"]))


ACTIONS = [
    "transfer-leader 12 3",
    "transfer-peer 12 1 4",
    "add-peer 12 5",
    "remove-peer 12 5",
    "split-region 12 usekey 7480000000000000FF 7480000000000001FF",
    "merge-region 10 11",
    "scatter-region 12",
    "cancel-operator 12",
    "evict-leader 4",
    "remove-evict-leader 4",
    "pause-scheduler balance-region 600",
    "resume-scheduler balance-region",
    "set-config max-snapshot-count 64",
    "set-store-limit 4 15 add-peer",
    "offline-store 4",
    "cancel-offline 4",
]


def test_the_sample_actions_cover_the_whole_catalog() -> None:
    """Every catalog action is rendered below, so a new action cannot ship with a broken card."""
    assert {samples.request(text).action for text in ACTIONS} == set(CATALOG)


@pytest.mark.parametrize("text", ACTIONS)
def test_a_pending_card_for_every_action_has_approve_reject_edit(text: str) -> None:
    """Header, the action in words and as the PD request with its pd-ctl line, checks, three buttons."""
    proposal = samples.proposal(text)
    spec = CATALOG[proposal.request.action]
    payload = assert_sendable(proposal_card(proposal))
    shown = _all_text(payload)
    assert payload["blocks"][0]["type"] == "header"
    assert spec.pd_request(proposal.request.params).path in shown
    assert spec.pd_ctl(proposal.request.params)[:40] in shown
    buttons = {b["action_id"]: b for b in _buttons(payload)}
    assert set(buttons) == {texts.ActionId.APPROVE, texts.ActionId.REJECT, texts.ActionId.EDIT}
    assert buttons[texts.ActionId.APPROVE]["style"] == "primary"
    assert all(parse_button_value(b["value"]) == (proposal.id, proposal.revision) for b in buttons.values())
    confirmed = "confirm" in buttons[texts.ActionId.APPROVE]
    assert confirmed == (proposal.tier.value in ("structural", "irreversible"))


def test_an_irreversible_approve_asks_for_confirmation_in_danger_style() -> None:
    """merge-region is irreversible: Approve opens a danger-styled confirm dialog within its limits."""
    payload = assert_sendable(proposal_card(samples.proposal("merge-region 10 11")))
    approve = next(b for b in _buttons(payload) if b["action_id"] == texts.ActionId.APPROVE)
    confirm = approve["confirm"]
    assert confirm["style"] == "danger"
    assert len(confirm["title"]["text"]) <= 100 and len(confirm["text"]["text"]) <= 300
    assert "cannot be undone" in confirm["text"]["text"]


def test_the_card_shows_rationale_evidence_requester_tier_and_approvals() -> None:
    """An agent's proposal names its rationale, each fact and its source, and who asked."""
    evidence = tuple(
        Evidence(label=f"store {i} leaders", value=str(100 * i), source="GET /pd/api/v1/stores")
        for i in range(20)
    )
    proposal = samples.proposal(
        "transfer-leader 12 3",
        source=Source.AGENT,
        rationale="Store 1 leads 3x more regions than store 3.",
        evidence=evidence,
        approvals=(samples.approval("U0BOB"),),
    )
    shown = _all_text(assert_sendable(proposal_card(proposal)))
    assert "Store 1 leads 3x more regions" in shown
    assert "store 1 leaders" in shown and "GET /pd/api/v1/stores" in shown
    assert "and 5 more facts" in shown
    assert "the agent" in shown
    assert "1 of 1" in shown and "<@U0BOB>" in shown
    assert "reversible" in shown


def _ticket(ticket_id: int, key: str, title: str) -> Ticket:
    return Ticket(id=ticket_id, key=key, title=title, created_at=samples.NOW)


def test_an_agent_card_names_the_finding_it_answers() -> None:
    """The card of an agent's proposal shows its ticket: the finding's title, key and number."""
    proposal = samples.proposal("evict-leader 5", source=Source.AGENT, rationale="Store 5 is down.")
    finding = _ticket(3, "store-down:5", "Store 5 is Down")
    shown = _all_text(assert_sendable(proposal_card(proposal, finding=finding)))
    assert "Finding:" in shown and "Store 5 is Down" in shown and "store-down:5" in shown
    assert "ticket #3" in shown
    assert "Finding:" not in _all_text(assert_sendable(proposal_card(proposal)))


def test_a_superseded_agent_card_says_its_finding_cleared() -> None:
    """Superseded because the finding it answered cleared (its ticket is closed): the card says so, not
    that the cluster failed its checks; with the ticket still open, the usual line stays."""
    proposal = samples.proposal("offline-store 5", source=Source.AGENT, rationale="Store 5 is gone.")
    superseded = proposal.model_copy(update={"state": ProposalState.SUPERSEDED})
    cleared = _ticket(3, "store-down:5", "Store 5 has been down").model_copy(update={"state": "closed"})
    shown = _all_text(assert_sendable(proposal_card(superseded, finding=cleared)))
    assert "has cleared" in shown and "store-down:5" in shown
    assert texts.STATE_LINE["superseded"] not in shown
    still_open = _ticket(3, "store-down:5", "Store 5 has been down")
    shown = _all_text(assert_sendable(proposal_card(superseded, finding=still_open)))
    assert texts.STATE_LINE["superseded"] in shown and "has cleared" not in shown


def test_a_hundred_check_preflight_stays_within_one_card() -> None:
    """100 checks with long messages: failures first, the rest summarised, never over Slack's limits."""
    report = samples.checks(100, fail=2, warn=3)
    payload = assert_sendable(proposal_card(samples.proposal(preflight=report)))
    shown = _all_text(payload)
    assert "95 passed" in shown and "3 warnings" in shown and "2 failed" in shown
    assert shown.index("❌") < shown.index("✅ *check")
    assert "more checks not shown" in shown
    assert_sendable(dry_run_message(samples.dry_run(report=report)))


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (ProposalState.APPROVED, "Approved"),
        (ProposalState.EXECUTING, "Executing"),
        (ProposalState.SUCCEEDED, "Succeeded"),
        (ProposalState.FAILED, "Failed"),
        (ProposalState.UNKNOWN, "unknown"),
        (ProposalState.REJECTED, "Rejected"),
        (ProposalState.EXPIRED, "Expired"),
        (ProposalState.SUPERSEDED, "Superseded"),
    ],
)
def test_a_decided_card_replaces_the_buttons_with_the_outcome_and_who(
    state: ProposalState, words: str
) -> None:
    """After a decision the card has no buttons, says what happened and names who decided."""
    decisions = (
        (samples.approval("U0CAROL", Decision.REJECT, reason="not during the sale"),)
        if state is ProposalState.REJECTED
        else (samples.approval("U0BOB"),)
    )
    base = samples.proposal(state=state, approvals=decisions)
    outcome = (
        samples.result(base, state) if state in (ProposalState.SUCCEEDED, ProposalState.FAILED) else None
    )
    proposal = base.model_copy(update={"result": outcome})
    payload = assert_sendable(proposal_card(proposal))
    shown = _all_text(payload)
    assert _buttons(payload) == []
    assert words in shown
    if state is ProposalState.REJECTED:
        assert "<@U0CAROL>" in shown and "not during the sale" in shown
    elif state in (ProposalState.APPROVED, ProposalState.SUCCEEDED):
        assert "approved by <@U0BOB>" in shown


def test_thread_messages_show_progress_and_the_result_with_its_verification() -> None:
    """The progress line and the result reply render, with PD's answer and the check afterwards."""
    proposal = samples.proposal(state=ProposalState.SUCCEEDED)
    assert_sendable(
        progress_message(proposal, "admin-transfer-leader (transfer leader: store 1 to 3): RUNNING")
    )
    shown = _all_text(assert_sendable(result_message(proposal, samples.result(proposal))))
    assert "SUCCESS" in shown and "store 3 leads region 12" in shown and "tikv-chatops/7" in shown
    long = samples.result(proposal, ProposalState.FAILED, message="PD refused: " + "x" * 9000)
    assert_sendable(result_message(proposal, long))


def test_a_dry_run_shows_checks_request_pd_ctl_tier_and_approvals() -> None:
    """Dry-run: every check as a sentence, the exact request, the pd-ctl line, tier, approvals, audit row;
    the data behind the checks is in a details message, not inline."""
    report = samples.dry_run("transfer-leader 12 3")
    shown = _all_text(assert_sendable(dry_run_message(report)))
    assert "POST /pd/api/v1/operators" in shown and '"to_store_id": 3' in shown
    assert report.pd_ctl in shown
    assert "reversible" in shown and "row 42" in shown
    assert "⚠️" in shown and "1000 regions" in shown and '"regions": 1000' not in shown
    details = details_message("Details", report.preflight)
    assert details is not None and '"regions": 1000' in _all_text(assert_sendable(details))


def test_five_hundred_audit_rows_paginate_instead_of_failing() -> None:
    """A 500-row audit listing becomes 25 pages of 20 rows, each sendable, linked by Prev/Next."""
    query = AuditQuery(limit=500, region_id=12)
    listing = audit_listing(query, samples.audit_entries(500))
    assert page_count(listing) == 500 // ROWS_PER_PAGE
    first = assert_sendable(listing_page(listing, page=1, command="audit region 12 500"))
    middle = assert_sendable(listing_page(listing, page=13, command="audit region 12 500"))
    last = assert_sendable(listing_page(listing, page=25, command="audit region 12 500"))
    assert [b["text"]["text"] for b in _buttons(first)] == [texts.NEXT_LABEL]
    assert [b["text"]["text"] for b in _buttons(middle)] == [texts.PREV_LABEL, texts.NEXT_LABEL]
    assert [b["text"]["text"] for b in _buttons(last)] == [texts.PREV_LABEL]
    ref = PageRef.decode(_buttons(middle)[1]["value"])
    assert ref == PageRef("audit region 12 500", 14)
    assert "Page 13 of 25" in _all_text(middle)
    assert "`260`" in _all_text(middle)  # rows 241-260 of 500, newest (id 500) first


def test_empty_listings_say_so() -> None:
    """No rows: one sentence and no buttons."""
    payload = assert_sendable(listing_page(pending_listing([]), command="pending"))
    assert texts.NOTHING_PENDING in _all_text(payload) and _buttons(payload) == []
    assert texts.NO_AUDIT_ROWS in _all_text(assert_sendable(listing_page(audit_listing(AuditQuery(), []))))


def test_pending_proposals_list_with_their_approvals() -> None:
    """Sixty pending proposals page like the audit log does."""
    proposals = [samples.proposal("add-peer 12 5", pid=i) for i in range(1, 61)]
    listing = pending_listing(proposals)
    assert page_count(listing) == 3
    shown = _all_text(assert_sendable(listing_page(listing, page=3, command="pending")))
    assert "*#60*" in shown and "0 of 1 approvals" in shown


def _status() -> StatusView:
    stores = StoresInfo.model_validate(samples.fixture("stores.json")).stores
    many = tuple(
        s.model_copy(update={"store": s.store.model_copy(update={"id": s.store.id + 100 * n})})
        for n in range(30)
        for s in stores
    )
    return StatusView(
        stores=many,
        health=tuple(HealthInfo.model_validate(h) for h in samples.fixture("health.json")),
        members=MembersInfo.model_validate(samples.fixture("members.json")),
        operators=tuple(OperatorObject.model_validate(o) for o in samples.fixture("operators_object.json")),
        schedulers=("balance-leader-scheduler", "balance-region-scheduler", "evict-leader-scheduler"),
        tickets=(),
        errors=("hot regions: PD did not answer within 5s",),
    )


def test_status_of_a_big_cluster_pages_its_stores() -> None:
    """150 stores, operators and schedulers: PD's health up front, every page sendable."""
    listing = status_listing(_status())
    assert page_count(listing) > 1
    for page in range(1, page_count(listing) + 1):
        shown = _all_text(assert_sendable(listing_page(listing, page=page, command="status")))
        assert "PD:" in shown and "evict-leader-scheduler" in shown and "did not answer" in shown


def test_status_names_the_open_findings_up_front_most_severe_first() -> None:
    """The open findings are counted and named in the summary on every page, and listed as rows."""
    findings = (
        _ticket(4, "store-down:5", "Store 5 is Down"),
        _ticket(2, "down-peer:5", "Down peers on store 5"),
        _ticket(1, "leader-imbalance:cluster", "Leaders unbalanced"),
        _ticket(9, "hot-write:12", "Region 12 is write-hot"),
    )
    listing = status_listing(replace(_status(), tickets=findings))
    pages = [
        _all_text(assert_sendable(listing_page(listing, page=n, command="status")))
        for n in range(1, page_count(listing) + 1)
    ]
    for shown in pages:
        assert "Open findings:* 4" in shown and "Store 5 is Down; Down peers on store 5" in shown
        assert "+1" in shown
    assert "`hot-write:12`" in pages[-1] and "ticket 9" in pages[-1]
    calm = status_listing(_status())
    assert "No open findings" in _all_text(assert_sendable(listing_page(calm, page=page_count(calm))))


def test_region_and_store_views_summarise_and_show_json_only_when_asked() -> None:
    """Region and store are summarised in fields; PD's JSON is shown (paged) only with --json."""
    region = RegionInfo.model_validate(samples.fixture("region.json"))
    summary = _all_text(assert_sendable(listing_page(region_listing(region.id, RegionView(region, None)))))
    assert "```" not in summary and '"approximate_size"' not in summary
    assert f"{region.approximate_size} MiB" in summary and "--json" in summary
    listing = region_listing(region.id, RegionView(region, None), raw_json=True)
    for page in range(1, page_count(listing) + 1):
        shown = _all_text(assert_sendable(listing_page(listing, page=page, command=f"region {region.id}")))
        assert "```" in shown and "Leader:" in shown
    store = StoreInfo.model_validate(samples.fixture("store.json"))
    shown = _all_text(
        assert_sendable(
            listing_page(
                store_listing(store.store.id, StoreView(store, evicting_leaders=True)), command="store 1"
            )
        )
    )
    assert '"leader_weight"' not in shown and "```" not in shown
    assert store.status.capacity in shown and f"{store.status.leader_count} · weight" in shown
    assert store.store.address in shown and "Last heartbeat" in shown
    raw = store_listing(store.store.id, StoreView(store), raw_json=True)
    assert any('"leader_weight"' in row for row in raw.rows)
    unknown = region_listing(99, RegionView(None, known_ids=(8, 12)))
    missing = _all_text(assert_sendable(listing_page(unknown)))
    assert "does not know region 99" in missing and "8, 12" in missing


def test_help_lists_only_what_the_caller_may_run() -> None:
    """Help shows the read commands and the allowed actions, each with usage and example."""
    everything = _all_text(assert_sendable(help_message(lambda action: True)))
    assert "transfer-leader" in everything and "/tikv transfer-leader 12 3" in everything
    some = _all_text(assert_sendable(help_message(lambda action: action is ActionType.SCATTER_REGION)))
    assert "scatter-region" in some and "merge-region" not in some and "/tikv audit" in some
    for action in CATALOG:
        assert_sendable(action_help(action))


def test_usage_and_refusals_render() -> None:
    """A typo answers with the usage line; a refusal with its checks."""
    assert "Usage" in _all_text(
        assert_sendable(usage("transfer-leader needs REGION STORE", "/tikv transfer-leader REGION STORE"))
    )
    shown = _all_text(
        assert_sendable(refusal("Not proposed: a check fails.", report=samples.checks(100, fail=100)))
    )
    assert "❌" in shown and "100 failed" in shown


@pytest.mark.parametrize("text", ACTIONS)
def test_the_edit_modal_is_prefilled_from_the_catalog(text: str) -> None:
    """One input per parameter with the current value, a select for closed sets, within modal limits."""
    proposal = samples.proposal(text)
    spec = CATALOG[proposal.request.action]
    view = validated_view(edit_modal(proposal, ModalContext.of(proposal)))
    assert check_view(view) == []
    assert view["callback_id"] == texts.CallbackId.EDIT
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert set(inputs) == {texts.PARAM_PREFIX + p.name for p in spec.params}
    for param in spec.params:
        element = inputs[texts.PARAM_PREFIX + param.name]["element"]
        if param.name in proposal.request.params and not param.choices:
            assert element["initial_value"] == param.format(proposal.request.params[param.name])
        if param.choices:
            assert element["type"] == "static_select"
    context = ModalContext.decode(view["private_metadata"])
    assert context == ModalContext.of(proposal)


def test_the_reject_modal_asks_for_a_reason() -> None:
    """Reject opens a modal with one required multi-line input under a fixed block id."""
    proposal = samples.proposal()
    view = validated_view(reject_modal(proposal, ModalContext.of(proposal)))
    assert check_view(view) == []
    reason = next(b for b in view["blocks"] if b["type"] == "input")
    assert reason["block_id"] == texts.BlockId.REASON and reason["element"]["multiline"] is True


def test_edit_values_and_errors_map_to_input_blocks() -> None:
    """Typed values come back by parameter; catalog errors go under the right input (or the first)."""
    state = {
        "values": {
            "param:region_id": {"value": {"type": "plain_text_input", "value": " 14 "}},
            "param:to_store_id": {"value": {"type": "plain_text_input", "value": None}},
        }
    }
    assert edit_params(state) == {"region_id": "14"}
    errors = edit_errors(
        {"to_store_id": "store is required", "": "the pair is wrong"}, ActionType.TRANSFER_LEADER
    )
    assert errors == {"param:to_store_id": "store is required", "param:region_id": "the pair is wrong"}


def test_clip_never_exceeds_its_limit() -> None:
    """Clipped text ends with an ellipsis and fits exactly."""
    assert clip("abcdef", 4) == "abc…" and clip("abc", 4) == "abc" and len(clip("x" * 5000, 3000)) == 3000


def test_a_listing_whose_command_is_too_long_still_renders_its_first_page() -> None:
    """A command too long for a button value drops Prev/Next rather than failing."""
    listing = Listing(title="Audit log", rows=tuple(f"row {i}" for i in range(45)))
    payload = assert_sendable(listing_page(listing, command="audit " + "9" * 2500))
    assert _buttons(payload) == []


def test_failures_come_first_whatever_the_order_of_the_checks() -> None:
    """A failure listed last in the report is shown first, then warnings, then passes."""
    base = samples.checks(6, fail=1, warn=1)
    report = base.model_copy(update={"checks": tuple(reversed(base.checks))})
    assert report.checks[-1].status is CheckStatus.FAIL
    shown = _all_text(assert_sendable(refusal("x", report=report)))
    assert shown.index("❌ *check") < shown.index("⚠️ *check") < shown.index("✅ *check")


def test_long_preformatted_rows_page_within_the_budget() -> None:
    """Region JSON with very long lines (keys, buckets) still pages within a message's limits."""
    listing = Listing(
        title="Region 12", rows=tuple(f'  "bucket_{i}": "{"AB" * 600}",' for i in range(500)), code=True
    )
    assert page_count(listing) > 1
    for page in (1, page_count(listing)):
        shown = _all_text(assert_sendable(listing_page(listing, page=page, command="region 12")))
        assert "```" in shown and "…" in shown


def test_help_names_commands_as_typed_and_evict_leader_is_reversible() -> None:
    """Help says `evict-leader` (the command), never PD's scheduler name, and its tier is not temporary."""
    everything = _all_text(assert_sendable(help_message(lambda action: True)))
    assert "*evict-leader* (reversible)" in everything
    assert "evict-leader-scheduler" not in everything
    assert "remove-evict-leader" in everything


def test_the_requester_is_told_why_their_proposal_will_not_run() -> None:
    """Rejected (with the reason), expired and superseded proposals each get a notice naming the requester."""
    from bot.render.told import requester_notice

    rejected = samples.proposal(
        state=ProposalState.REJECTED,
        approvals=(samples.approval("U0CAROL", Decision.REJECT, reason="not during <the sale>"),),
    )
    notice = requester_notice(rejected)
    assert notice is not None and notice.text.startswith("<@U0ALICE>, #7 was rejected by <@U0CAROL>")
    assert "not during &lt;the sale&gt;" in notice.text
    expired = requester_notice(samples.proposal(state=ProposalState.EXPIRED))
    assert expired is not None and "expired" in expired.text and "<!date^" in expired.text
    superseded = requester_notice(samples.proposal(state=ProposalState.SUPERSEDED))
    assert superseded is not None and "no longer passes its checks" in superseded.text
    assert requester_notice(samples.proposal(state=ProposalState.PENDING)) is None
    failed = samples.proposal(state=ProposalState.FAILED)
    from bot.render.proposal import result_message

    shown = result_message(failed, samples.result(failed, ProposalState.FAILED, "PD refused"))
    assert "<@U0ALICE>" in str(shown.blocks)


def test_an_offline_store_reads_as_draining_with_the_regions_left() -> None:
    store = StoreInfo.model_validate(samples.fixture("store.json"))
    offline = store.model_copy(update={"store": store.store.model_copy(update={"state_name": "Offline"})})
    shown = _all_text(assert_sendable(listing_page(store_listing(offline.store.id, StoreView(offline)))))
    assert f"Offline: draining, {store.status.region_count} regions left to move" in shown
