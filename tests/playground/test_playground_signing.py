"""Slack's signature and request bodies: slack_sdk accepts the signature, Bolt parses the bodies."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground import FakeSlack
from bot.playground.signing import (
    Actor,
    action_json,
    block_actions_payload,
    interaction_body,
    sign_request,
    slash_command_body,
    state_values,
    view_submission_payload,
)
from bot.playground.workspace import find_element

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ALICE = Actor(
    user_id="U0ALICE", user_name="alice", team_id="T0TIKV", team_domain="tikv-playground", api_app_id="A0X"
)
COMMAND_FIELDS = [
    "token",
    "team_id",
    "team_domain",
    "channel_id",
    "channel_name",
    "user_id",
    "user_name",
    "command",
    "text",
    "api_app_id",
    "is_enterprise_install",
    "response_url",
    "trigger_id",
]
SELECT = {
    "type": "static_select",
    "action_id": "tier",
    "options": [
        {"text": {"type": "plain_text", "text": "Reversible"}, "value": "reversible"},
        {"text": {"type": "plain_text", "text": "Structural"}, "value": "structural"},
    ],
    "initial_option": {"text": {"type": "plain_text", "text": "Reversible"}, "value": "reversible"},
}
MODAL_BLOCKS: list[dict[str, Any]] = [
    {
        "type": "input",
        "block_id": "region",
        "label": {"type": "plain_text", "text": "Region"},
        "element": {"type": "plain_text_input", "action_id": "value", "initial_value": "12"},
    },
    {
        "type": "input",
        "block_id": "store",
        "label": {"type": "plain_text", "text": "Store"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    },
    {"type": "input", "block_id": "tier", "label": {"type": "plain_text", "text": "Tier"}, "element": SELECT},
]


def _bolt_request(body: bytes) -> AsyncBoltRequest:
    headers = sign_request(SECRET, body)
    return AsyncBoltRequest(body=body.decode(), headers={k.lower(): [v] for k, v in headers.items()})


@pytest.fixture
async def slack() -> AsyncIterator[tuple[FakeSlack, AsyncApp]]:
    """A fake Slack and a real Bolt app that verifies signatures and calls auth.test on it."""
    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
        yield fake, AsyncApp(client=client, signing_secret=SECRET)


def test_signature_is_what_slack_sdk_verifies() -> None:
    """sign_request's headers pass SignatureVerifier.is_valid and equal generate_signature."""
    body = b"token=x&text=status+12"
    headers = sign_request(SECRET, body)
    verifier = SignatureVerifier(SECRET)

    ts = headers["X-Slack-Request-Timestamp"]
    assert verifier.is_valid(body, ts, headers["X-Slack-Signature"])
    assert headers["X-Slack-Signature"] == verifier.generate_signature(timestamp=ts, body=body)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_six_minute_old_signature_is_refused() -> None:
    """A timestamp six minutes in the past fails the verifier's five-minute replay window."""
    body = b"token=x&text=status"
    headers = sign_request(SECRET, body, timestamp=int(time.time()) - 360)

    valid = SignatureVerifier(SECRET).is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )

    assert not valid


def test_a_signature_covers_the_exact_bytes() -> None:
    """Any change to the body, or another secret, breaks the signature."""
    body = b"token=x&text=approve+p-1"
    headers = sign_request(SECRET, body)
    ts, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]

    assert not SignatureVerifier(SECRET).is_valid(body + b"0", ts, signature)
    assert not SignatureVerifier("another-secret").is_valid(body, ts, signature)


def test_slash_command_body_has_every_field_in_slacks_order() -> None:
    """The form carries the fields of §2.1 in order, percent-encoded like Slack's (%2Ftikv, + for spaces)."""
    body = slash_command_body(
        ALICE,
        text="transfer-leader 12 3",
        channel_id="C0OPS",
        channel_name="tikv-ops",
        response_url="http://127.0.0.1:3000/response/R1",
        trigger_id="1.2.abc",
    )

    fields = parse_qsl(body.decode(), keep_blank_values=True)
    assert [name for name, _ in fields] == COMMAND_FIELDS
    assert dict(fields)["text"] == "transfer-leader 12 3"
    assert b"command=%2Ftikv" in body and b"text=transfer-leader+12+3" in body


async def test_bolt_parses_the_slash_command(slack: tuple[FakeSlack, AsyncApp]) -> None:
    """Bolt verifies the signed command and hands the listener every field, context included."""
    fake, app = slack
    seen: dict[str, Any] = {}

    @app.command("/tikv")
    async def on_command(ack: Any, command: dict[str, Any], context: Any) -> None:
        seen.update(command=command, user=context.user_id, channel=context.channel_id)
        await ack("got it")

    body = slash_command_body(
        ALICE,
        text="status",
        channel_id="C0OPS",
        channel_name="tikv-ops",
        response_url=fake.response_url("C0OPS", "U0ALICE"),
        trigger_id=fake.issue_trigger("U0ALICE"),
    )
    response = await app.async_dispatch(_bolt_request(body))

    assert (response.status, response.body) == (200, "got it")
    assert set(seen["command"]) == set(COMMAND_FIELDS)
    assert (seen["command"]["command"], seen["command"]["text"]) == ("/tikv", "status")
    assert (seen["user"], seen["channel"]) == ("U0ALICE", "C0OPS")


async def test_bolt_routes_a_button_click_on_a_posted_card(slack: tuple[FakeSlack, AsyncApp]) -> None:
    """A block_actions payload built from the fake's message matches app.action on action and block id."""
    fake, app = slack
    client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
    button = {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"}}
    blocks = [
        {
            "type": "actions",
            "block_id": "decide",
            "elements": [{**button, "value": "p-1", "style": "primary"}],
        }
    ]
    ts = (await client.chat_postMessage(channel="C0OPS", text="card", blocks=blocks))["ts"]
    seen: dict[str, Any] = {}

    @app.action({"block_id": "decide", "action_id": "approve"})
    async def on_approve(ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
        await ack()
        seen.update(body=body, action=action, user=context.user_id, channel=context.channel_id)

    message = fake.message("C0OPS", ts)
    block_id, element = find_element(message.blocks, "approve")
    payload = block_actions_payload(
        ALICE,
        action=action_json(element, block_id=block_id, action_ts="1730000001.000001"),
        trigger_id=fake.issue_trigger("U0ALICE"),
        channel_id="C0OPS",
        channel_name="tikv-ops",
        message=message.to_slack(),
        message_ts=ts,
        response_url=fake.response_url("C0OPS", "U0ALICE", message_ts=ts),
    )
    response = await app.async_dispatch(_bolt_request(interaction_body(payload)))

    assert response.status == 200
    assert seen["action"] == {
        "action_id": "approve",
        "block_id": "decide",
        "text": {"type": "plain_text", "text": "Approve", "emoji": True},
        "value": "p-1",
        "style": "primary",
        "type": "button",
        "action_ts": "1730000001.000001",
    }
    container = seen["body"]["container"]
    assert container == {"type": "message", "message_ts": ts, "channel_id": "C0OPS", "is_ephemeral": False}
    assert seen["body"]["message"]["blocks"][0]["block_id"] == "decide"
    assert (seen["user"], seen["channel"]) == ("U0ALICE", "C0OPS")


async def test_bolt_routes_a_view_submission_with_its_state(slack: tuple[FakeSlack, AsyncApp]) -> None:
    """A view_submission routes on callback_id and carries Slack's state.values and private_metadata."""
    fake, app = slack
    client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
    spec = {
        "type": "modal",
        "callback_id": "edit",
        "private_metadata": "p-1",
        "title": {"type": "plain_text", "text": "Edit"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": MODAL_BLOCKS,
    }
    view = (await client.views_open(trigger_id=fake.issue_trigger("U0ALICE"), view=spec))["view"]
    seen: dict[str, Any] = {}

    @app.view("edit")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        seen.update(view=view)
        await ack(response_action="errors", errors={"store": "Store 9 does not exist"})

    state = state_values(view["blocks"], {"store": {"value": "9"}, "tier": {"tier": "structural"}})
    payload = view_submission_payload(ALICE, view=view, state=state, trigger_id=fake.issue_trigger("U0ALICE"))
    response = await app.async_dispatch(_bolt_request(interaction_body(payload)))

    assert response.status == 200
    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {"store": "Store 9 does not exist"},
    }
    values = seen["view"]["state"]["values"]
    assert values["region"]["value"] == {"type": "plain_text_input", "value": "12"}
    assert values["store"]["value"] == {"type": "plain_text_input", "value": "9"}
    assert values["tier"]["tier"]["selected_option"]["value"] == "structural"
    assert seen["view"]["private_metadata"] == "p-1" and seen["view"]["id"] == view["id"]


def test_empty_inputs_are_null_like_slacks() -> None:
    """An untouched input without an initial value is null; a select keeps its initial option."""
    values = state_values(MODAL_BLOCKS, {})

    assert values["store"]["value"] == {"type": "plain_text_input", "value": None}
    assert values["tier"]["tier"]["selected_option"]["value"] == "reversible"


def test_interaction_body_is_a_single_payload_field() -> None:
    """The body is payload=<url-encoded JSON>, and decodes back to the payload."""
    payload = {"type": "block_actions", "actions": [{"value": "p-1 & more ✅"}]}

    body = interaction_body(payload)

    assert body.startswith(b"payload=")
    assert json.loads(parse_qs(body.decode())["payload"][0]) == payload
