"""BotRelay against a real Bolt app over HTTP: signed requests in, acks shown the way Slack shows them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground import BotRelay, FakeSlack
from bot.playground.relay import TROUBLE_CONNECTING

SECRET = "relay-test-secret"
CARD: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*transfer-leader* 12 → 3"}},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": "p-1",
            }
        ],
    },
]
EDIT_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "edit",
    "title": {"type": "plain_text", "text": "Edit proposal"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "store",
            "label": {"type": "plain_text", "text": "Target store"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@dataclass
class Harness:
    fake: FakeSlack
    app: AsyncApp
    relay: BotRelay


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """A fake Slack, a Bolt app served over HTTP that calls it, and a relay between them."""
    async with FakeSlack() as fake:
        app = AsyncApp(client=AsyncWebClient(token=fake.token, base_url=fake.api_url), signing_secret=SECRET)
        runner = web.AppRunner(app.web_app(path="/slack/events"), shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        async with BotRelay(fake, bot_url=f"http://127.0.0.1:{port}", signing_secret=SECRET) as relay:
            yield Harness(fake, app, relay)
        await runner.cleanup()


async def test_a_command_ack_is_an_ephemeral_for_its_author(harness: Harness) -> None:
    """ack("text") to /tikv shows only the person who typed it that text."""

    @harness.app.command("/tikv")
    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        await ack(f"received: {command['text']}")

    delivery = await harness.relay.command("U0ALICE", "status")

    assert delivery.ok and delivery.status == 200
    assert [e.text for e in harness.fake.ephemerals("U0ALICE")] == ["received: status"]
    assert harness.fake.ephemerals("U0BOB") == []
    assert harness.fake.messages("C0OPS") == []


async def test_an_in_channel_ack_is_posted_for_everyone(harness: Harness) -> None:
    """An ack message with response_type in_channel lands in the channel with its blocks."""

    @harness.app.command("/tikv")
    async def on_command(ack: Any) -> None:
        await ack(text="status", blocks=CARD[:1], response_type="in_channel")

    await harness.relay.command("U0ALICE", "status")

    (message,) = harness.fake.messages("C0OPS")
    assert message.text == "status" and message.blocks[0]["text"]["text"] == "*transfer-leader* 12 → 3"


async def test_the_two_person_flow_runs_through_the_fake(harness: Harness) -> None:
    """Alice's command posts a card; Bob's click rewrites it in place and tells Bob privately."""
    app, fake = harness.app, harness.fake

    @app.command("/tikv")
    async def on_command(ack: Any, client: AsyncWebClient, command: dict[str, Any]) -> None:
        await ack()
        await client.chat_postMessage(channel=command["channel_id"], text="proposal p-1", blocks=CARD)

    @app.action("approve")
    async def on_approve(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        container = body["container"]
        approved = [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"Approved by <@{body['user']['id']}>"}],
            }
        ]
        await client.chat_update(
            channel=container["channel_id"], ts=container["message_ts"], text="approved", blocks=approved
        )
        await respond(text="You approved p-1", response_type="ephemeral", replace_original=False)

    await harness.relay.command("U0ALICE", "transfer-leader 12 3")
    (card,) = await fake.wait_for(lambda: fake.messages("C0OPS"))
    delivery = await harness.relay.click("U0BOB", channel_id="C0OPS", message_ts=card.ts, action_id="approve")
    await fake.wait_for(lambda: fake.ephemerals("U0BOB"))

    assert delivery.ok
    (updated,) = fake.messages("C0OPS")
    assert updated.ts == card.ts and updated.blocks[0]["elements"][0]["text"] == "Approved by <@U0BOB>"
    assert [e.text for e in fake.ephemerals("U0BOB")] == ["You approved p-1"]
    assert fake.ephemerals("U0ALICE") == []


async def test_a_modal_shows_inline_errors_then_closes(harness: Harness) -> None:
    """views.open with the command's trigger opens a modal; errors stay inline; a clean ack closes it."""
    app, fake = harness.app, harness.fake

    @app.command("/tikv")
    async def on_command(ack: Any, client: AsyncWebClient, body: dict[str, Any]) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=EDIT_MODAL)

    @app.view("edit")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        store = view["state"]["values"]["store"]["value"]["value"]
        if store != "3":
            await ack(response_action="errors", errors={"store": f"Store {store} does not exist"})
        else:
            await ack()

    await harness.relay.command("U0ALICE", "edit p-1")
    modal = await fake.wait_for(lambda: fake.modal("U0ALICE"))
    wrong = await harness.relay.submit("U0ALICE", view_id=modal.id, values={"store": {"value": "9"}})

    assert wrong.ok
    still_open = fake.modal("U0ALICE")
    assert still_open is not None and still_open.errors == {"store": "Store 9 does not exist"}
    await harness.relay.submit("U0ALICE", view_id=modal.id, values={"store": {"value": "3"}})
    assert fake.modal("U0ALICE") is None
    assert fake.views("U0ALICE")[0].closed


async def test_errors_for_a_block_that_is_no_input_show_slacks_trouble_line(harness: Harness) -> None:
    """An errors ack keyed by anything but an input block's id shows "trouble connecting", as in Slack."""
    fake = harness.fake
    view = fake.workspace.open_view("U0ALICE", EDIT_MODAL, trigger_id=None, push=False)

    @harness.app.view("edit")
    async def on_submit(ack: Any) -> None:
        await ack(response_action="errors", errors={"not-an-input": "nope"})

    await harness.relay.submit("U0ALICE", view_id=view.id, values={})

    modal = fake.modal("U0ALICE")
    assert modal is not None and modal.errors == {} and modal.notice == TROUBLE_CONNECTING


async def test_an_update_ack_rewrites_the_modal(harness: Harness) -> None:
    """response_action update replaces the modal's content and keeps its id."""
    fake = harness.fake
    view = fake.workspace.open_view("U0ALICE", EDIT_MODAL, trigger_id=None, push=False)
    done = {"type": "modal", "title": {"type": "plain_text", "text": "Saved"}, "blocks": []}

    @harness.app.view("edit")
    async def on_submit(ack: Any) -> None:
        await ack(response_action="update", view=done)

    await harness.relay.submit("U0ALICE", view_id=view.id, values={"store": {"value": "3"}})

    modal = fake.modal("U0ALICE")
    assert modal is not None and modal.id == view.id and modal.spec["title"]["text"] == "Saved"


async def test_a_click_on_an_ephemeral_carries_no_message(harness: Harness) -> None:
    """Clicking a button in an ephemeral sends is_ephemeral true and no message, like Slack."""
    fake = harness.fake
    ephemeral = fake.workspace.add_ephemeral("C0OPS", "U0ALICE", text="dry run", blocks=CARD, source="test")
    seen: dict[str, Any] = {}

    @harness.app.action("approve")
    async def on_approve(ack: Any, body: dict[str, Any]) -> None:
        seen.update(body)
        await ack()

    await harness.relay.click("U0ALICE", channel_id="C0OPS", message_ts=ephemeral.ts, action_id="approve")

    assert seen["container"]["is_ephemeral"] is True and "message" not in seen
    assert seen["container"]["message_ts"] == ephemeral.ts


async def test_a_response_to_a_click_in_a_thread_stays_in_the_thread(harness: Harness) -> None:
    """respond() after a click on a reply's button lands in that thread, as Slack places it."""
    fake = harness.fake
    parent = fake.workspace.post(fake.workspace.channels[0], text="card")
    reply = fake.workspace.post(fake.workspace.channels[0], text="retry?", blocks=CARD, thread_ts=parent.ts)

    @harness.app.action("approve")
    async def on_approve(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="retrying", response_type="ephemeral")

    await harness.relay.click("U0BOB", channel_id="C0OPS", message_ts=reply.ts, action_id="approve")
    (ephemeral,) = await fake.wait_for(lambda: fake.ephemerals("U0BOB"))

    assert ephemeral.text == "retrying" and ephemeral.thread_ts == parent.ts


async def test_a_choice_in_a_select_carries_the_option_and_the_state(harness: Harness) -> None:
    """Picking an option sends selected_option in the action and in state.values, as Slack does."""
    fake = harness.fake
    select = {
        "type": "static_select",
        "action_id": "cluster",
        "options": [
            {"text": {"type": "plain_text", "text": "prod"}, "value": "prod"},
            {"text": {"type": "plain_text", "text": "staging"}, "value": "staging"},
        ],
    }
    card = fake.workspace.post(
        fake.workspace.channels[0],
        text="pick",
        blocks=[{"type": "actions", "block_id": "pick", "elements": [select]}],
    )
    seen: dict[str, Any] = {}

    @harness.app.action("cluster")
    async def on_pick(ack: Any, body: dict[str, Any]) -> None:
        seen.update(body)
        await ack()

    await harness.relay.click(
        "U0ALICE", channel_id="C0OPS", message_ts=card.ts, action_id="cluster", value="staging"
    )

    assert seen["actions"][0]["selected_option"]["value"] == "staging"
    assert seen["state"]["values"]["pick"]["cluster"]["selected_option"]["value"] == "staging"


async def test_a_click_in_a_modal_names_the_view(harness: Harness) -> None:
    """A button inside a modal sends a view container and the view, with no channel or response_url."""
    fake = harness.fake
    spec = {**EDIT_MODAL, "blocks": [*EDIT_MODAL["blocks"], *CARD[1:]]}
    view = fake.workspace.open_view("U0ALICE", spec, trigger_id=None, push=False)
    seen: dict[str, Any] = {}

    @harness.app.action("approve")
    async def on_approve(ack: Any, body: dict[str, Any]) -> None:
        seen.update(body)
        await ack()

    await harness.relay.click("U0ALICE", view_id=view.id, action_id="approve")

    assert seen["container"] == {"type": "view", "view_id": view.id}
    assert seen["view"]["callback_id"] == "edit"
    assert "channel" not in seen and "response_url" not in seen


async def test_a_bare_bot_url_gets_bolts_events_path() -> None:
    """A bot URL without a path is Bolt's default /slack/events; one with a path is kept."""
    async with FakeSlack() as fake:
        bare = BotRelay(fake, bot_url="http://127.0.0.1:8080", signing_secret=SECRET)
        custom = BotRelay(fake, bot_url="http://127.0.0.1:8080/hooks/slack", signing_secret=SECRET)

    assert bare.bot_url == "http://127.0.0.1:8080/slack/events"
    assert custom.bot_url == "http://127.0.0.1:8080/hooks/slack"


async def test_an_unreachable_bot_shows_dispatch_failed() -> None:
    """With nothing listening, the author sees Slack's dispatch_failed line."""
    async with FakeSlack() as fake:
        url = f"http://127.0.0.1:{_free_port()}/slack/events"
        async with BotRelay(fake, bot_url=url, signing_secret=SECRET) as relay:
            delivery = await relay.command("U0ALICE", "status")

    assert delivery.error == "dispatch_failed" and delivery.status is None
    assert [e.text for e in fake.ephemerals("U0ALICE")] == ['/tikv failed with the error "dispatch_failed"']


async def test_a_late_ack_is_an_operation_timeout(harness: Harness) -> None:
    """An ack slower than the ack timeout shows operation_timeout, whatever the bot says later."""
    relay = BotRelay(harness.fake, bot_url=harness.relay.bot_url, signing_secret=SECRET, ack_timeout=0.1)

    @harness.app.command("/tikv")
    async def on_command(ack: Any) -> None:
        await asyncio.sleep(0.3)
        await ack("too late")

    async with relay:
        delivery = await relay.command("U0ALICE", "status")

    assert delivery.error == "operation_timeout"
    assert [e.text for e in harness.fake.ephemerals("U0ALICE")] == [
        '/tikv failed with the error "operation_timeout"'
    ]


async def test_a_wrong_secret_is_refused_by_bolt(harness: Harness) -> None:
    """Bolt answers 401 to a request signed with another secret; the author sees the failure."""

    @harness.app.command("/tikv")
    async def on_command(ack: Any) -> None:
        await ack("should not run")

    async with BotRelay(harness.fake, bot_url=harness.relay.bot_url, signing_secret="wrong") as relay:
        delivery = await relay.command("U0ALICE", "status")

    assert delivery.status == 401 and delivery.error == "http_service_error"
    assert "should not run" not in [e.text for e in harness.fake.ephemerals("U0ALICE")]
