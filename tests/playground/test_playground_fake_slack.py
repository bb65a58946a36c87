"""The fake Web API, driven by slack_sdk's real AsyncWebClient: Slack's shapes, errors and records."""

from __future__ import annotations

import asyncio
import json
import re
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import slack_sdk.http_retry.builtin_async_handlers as retry_handlers
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.playground import FakeSlack, WaitTimeout
from bot.playground.fake_slack import DEFAULT_TOKEN
from bot.playground.model import Channel

TS = re.compile(r"^\d{10}\.\d{6}$")

CARD: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "transfer-leader 12 → 3"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Why:* leader imbalance"}},
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
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Reject"},
                "style": "danger",
                "value": "p-1",
            },
        ],
    },
]

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "edit",
    "title": {"type": "plain_text", "text": "Edit proposal"},
    "submit": {"type": "plain_text", "text": "Save"},
    "private_metadata": "p-1",
    "blocks": [
        {
            "type": "input",
            "block_id": "region",
            "label": {"type": "plain_text", "text": "Region"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


async def _error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


async def test_post_message_answers_with_slacks_shape_and_echoes_the_blocks(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """chat.postMessage answers ok, channel, a Slack-style ts and the message with generated block ids."""
    response = await client.chat_postMessage(channel="C0OPS", text="proposal p-1", blocks=CARD)

    assert response["ok"] is True
    assert response["channel"] == "C0OPS"
    assert TS.match(response["ts"])
    message = response["message"]
    assert message["ts"] == response["ts"]
    assert message["text"] == "proposal p-1"
    assert message["bot_id"] == "B0BOT" and message["user"] == "U0BOT"
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "actions"]
    assert all(b["block_id"] for b in message["blocks"])
    assert message["blocks"][2]["block_id"] == "decide"
    reject = message["blocks"][2]["elements"][1]
    assert reject["action_id"] and reject["action_id"] != "approve"


async def test_every_call_is_recorded_with_its_arguments_and_headers(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """calls() lists each request in order, with decoded JSON arguments and the Bearer header."""
    await client.auth_test()
    await client.chat_postMessage(channel="C0OPS", text="hi", blocks=CARD)
    await client.users_info(user="U0BOB")

    assert [c.method for c in fake.calls()] == ["auth.test", "chat.postMessage", "users.info"]
    post = fake.calls("chat.postMessage")[0]
    assert post.args["channel"] == "C0OPS"
    assert post.args["blocks"][2]["elements"][0]["action_id"] == "approve"
    assert post.headers["authorization"] == f"Bearer {DEFAULT_TOKEN}"
    assert post.headers["Content-Type"].startswith("application/json")
    assert post.ok and post.response["ts"] == fake.messages("C0OPS")[0].ts
    assert fake.calls("users.info")[0].args == {"user": "U0BOB"}


async def test_form_encoded_bodies_are_read_like_json_ones(fake: FakeSlack) -> None:
    """A form-encoded chat.postMessage with blocks as a JSON string posts the same message."""
    async with aiohttp.ClientSession() as session:
        form = {"channel": "C0OPS", "text": "from a form", "blocks": json.dumps(CARD)}
        headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        async with session.post(f"{fake.api_url}chat.postMessage", data=form, headers=headers) as response:
            body = await response.json()

    assert body["ok"] is True
    assert fake.calls("chat.postMessage")[0].args["blocks"][1]["text"]["text"] == "*Why:* leader imbalance"
    assert fake.messages("C0OPS")[0].blocks[2]["block_id"] == "decide"


async def test_timestamps_are_unique_and_increase_across_channels() -> None:
    """Every ts handed out is later than the one before, in any channel."""
    channels = [Channel("C0OPS", "tikv-ops"), Channel("C0ALERTS", "tikv-alerts")]
    async with FakeSlack(channels=channels) as fake:
        client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=fake.api_url)
        stamps = [
            (await client.chat_postMessage(channel=channel, text=str(i)))["ts"]
            for i, channel in enumerate(["C0OPS", "C0ALERTS", "tikv-ops", "#tikv-alerts"])
        ]

    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert [m.text for m in fake.messages("C0ALERTS")] == ["1", "3"]


async def test_threads_hold_replies_under_their_parent(fake: FakeSlack, client: AsyncWebClient) -> None:
    """Replies stay out of the channel (unless broadcast) and list under the parent in order."""
    parent = (await client.chat_postMessage(channel="C0OPS", text="card"))["ts"]
    first = (await client.chat_postMessage(channel="C0OPS", text="executing", thread_ts=parent))["ts"]
    await client.chat_postMessage(channel="C0OPS", text="reply to a reply", thread_ts=first)
    await client.chat_postMessage(channel="C0OPS", text="succeeded", thread_ts=parent, reply_broadcast=True)

    assert [m.text for m in fake.messages("C0OPS")] == ["card", "succeeded"]
    thread = fake.thread("C0OPS", parent)
    assert [m.text for m in thread] == ["card", "executing", "reply to a reply", "succeeded"]
    assert all(m.thread_ts == parent for m in thread[1:])
    rendered = fake.message("C0OPS", parent).to_slack()
    assert rendered["reply_count"] == 3 and rendered["thread_ts"] == parent
    replies = await client.conversations_replies(channel="C0OPS", ts=parent)
    assert [m["text"] for m in replies["messages"]] == ["card", "executing", "reply to a reply", "succeeded"]


async def test_chat_update_rewrites_in_place_and_drops_blocks_not_resent(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """chat.update keeps the ts, marks the edit, and text without blocks removes the old blocks."""
    ts = (await client.chat_postMessage(channel="C0OPS", text="card", blocks=CARD))["ts"]
    outcome = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "✅ Approved by <@U0BOB>"}]}]

    response = await client.chat_update(channel="C0OPS", ts=ts, text="approved", blocks=outcome)
    assert response["ok"] is True and response["ts"] == ts and response["text"] == "approved"
    assert response["message"]["blocks"][0]["elements"][0]["text"] == "✅ Approved by <@U0BOB>"
    assert fake.message("C0OPS", ts).edited is not None

    await client.chat_update(channel="C0OPS", ts=ts, text="text only")
    assert fake.messages("C0OPS")[0].blocks == []
    assert len(fake.messages("C0OPS")) == 1


async def test_chat_update_refuses_what_slack_refuses(fake: FakeSlack, client: AsyncWebClient) -> None:
    """An unknown ts is message_not_found; text past 4,000 characters is msg_too_long."""
    ts = (await client.chat_postMessage(channel="C0OPS", text="card"))["ts"]

    missing = await _error(client.chat_update(channel="C0OPS", ts="1.000001", text="x"))
    too_long = await _error(client.chat_update(channel="C0OPS", ts=ts, text="x" * 4001))

    assert missing.response["error"] == "message_not_found"
    assert too_long.response["error"] == "msg_too_long"
    assert fake.message("C0OPS", ts).text == "card"


async def test_post_message_errors_have_slacks_codes(fake: FakeSlack, client: AsyncWebClient) -> None:
    """Unknown channel, no text, over-long text and blocks past Block Kit's limits are refused."""
    unknown = await _error(client.chat_postMessage(channel="C0NOPE", text="x"))
    # Through api_call: chat_postMessage itself warns about the missing text before sending.
    empty = await _error(client.api_call("chat.postMessage", json={"channel": "C0OPS"}))
    long_text = await _error(client.chat_postMessage(channel="C0OPS", text="x" * 40_001))
    divider = {"type": "divider"}
    too_many = await _error(client.chat_postMessage(channel="C0OPS", text="x", blocks=[divider] * 51))
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    long_section = await _error(client.chat_postMessage(channel="C0OPS", text="x", blocks=[section]))

    assert unknown.response.status_code == 200
    assert unknown.response["error"] == "channel_not_found"
    assert empty.response["error"] == "no_text"
    assert long_text.response["error"] == "msg_too_long"
    assert too_many.response["error"] == "invalid_blocks"
    assert long_section.response["error"] == "invalid_blocks"
    assert "[json-pointer:/blocks/0/text/text]" in long_section.response["errors"][0]
    assert long_section.response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert fake.messages("C0OPS") == []


async def test_bad_button_style_and_confirm_are_invalid_blocks(client: AsyncWebClient) -> None:
    """A button style other than primary/danger, or a confirm title past 100 characters, is refused."""
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Go"},
        "action_id": "go",
        "style": "green",
    }
    confirm = {
        "title": {"type": "plain_text", "text": "t" * 101},
        "text": {"type": "plain_text", "text": "Sure?"},
        "confirm": {"type": "plain_text", "text": "Yes"},
        "deny": {"type": "plain_text", "text": "No"},
    }
    styled = await _error(
        client.chat_postMessage(channel="C0OPS", text="x", blocks=[{"type": "actions", "elements": [button]}])
    )
    confirmed = {**button, "style": "danger", "confirm": confirm}
    dialog = await _error(
        client.chat_postMessage(
            channel="C0OPS", text="x", blocks=[{"type": "actions", "elements": [confirmed]}]
        )
    )

    assert "/blocks/0/elements/0/style" in styled.response["errors"][0]
    assert "/blocks/0/elements/0/confirm/title/text" in dialog.response["errors"][0]


async def test_tokens_are_checked(fake: FakeSlack) -> None:
    """No token answers not_authed, a wrong one invalid_auth; auth.test names the bot."""
    anonymous = AsyncWebClient(base_url=fake.api_url)
    impostor = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
    bot = AsyncWebClient(token=DEFAULT_TOKEN, base_url=fake.api_url)

    unsigned = await _error(anonymous.chat_postMessage(channel="C0OPS", text="x"))
    wrong = await _error(impostor.auth_test())

    assert unsigned.response["error"] == "not_authed"
    assert wrong.response["error"] == "invalid_auth"
    identity = await bot.auth_test()
    assert (identity["user_id"], identity["bot_id"], identity["team_id"]) == ("U0BOT", "B0BOT", "T0TIKV")
    assert fake.messages("C0OPS") == []


async def test_ephemerals_reach_only_their_user(fake: FakeSlack, client: AsyncWebClient) -> None:
    """chat.postEphemeral answers message_ts and only that user sees it; a deactivated user is refused."""
    response = await client.chat_postEphemeral(
        channel="C0OPS", user="U0BOB", text="you may not approve your own"
    )
    refused = await _error(client.chat_postEphemeral(channel="C0OPS", user="U0DAVE", text="x"))

    assert TS.match(response["message_ts"])
    assert [e.text for e in fake.ephemerals("U0BOB")] == ["you may not approve your own"]
    assert fake.ephemerals("U0ALICE") == []
    assert fake.messages("C0OPS") == []
    assert refused.response["error"] == "user_not_in_channel"


async def test_permalinks_point_into_the_archive(client: AsyncWebClient) -> None:
    """chat.getPermalink answers Slack's archive URL, with thread_ts for a reply."""
    parent = (await client.chat_postMessage(channel="C0OPS", text="card"))["ts"]
    reply = (await client.chat_postMessage(channel="C0OPS", text="done", thread_ts=parent))["ts"]

    top = await client.chat_getPermalink(channel="C0OPS", message_ts=parent)
    inner = await client.chat_getPermalink(channel="C0OPS", message_ts=reply)

    assert top["permalink"] == f"https://tikv-playground.slack.com/archives/C0OPS/p{parent.replace('.', '')}"
    assert inner["permalink"].endswith(f"?thread_ts={parent}&cid=C0OPS")


async def test_conversations_info_describes_the_channel(client: AsyncWebClient) -> None:
    """conversations.info answers the channel object; an unknown one is channel_not_found."""
    info = await client.conversations_info(channel="C0OPS")
    missing = await _error(client.conversations_info(channel="C0NOPE"))

    assert info["channel"]["name"] == "tikv-ops" and info["channel"]["is_channel"] is True
    assert missing.response["error"] == "channel_not_found"


async def test_views_open_needs_a_fresh_trigger(fake: FakeSlack, client: AsyncWebClient) -> None:
    """A trigger opens one modal for its user; reused it is exchanged, unknown it is invalid."""
    trigger = fake.issue_trigger("U0ALICE")

    opened = await client.views_open(trigger_id=trigger, view=MODAL)
    reused = await _error(client.views_open(trigger_id=trigger, view=MODAL))
    unknown = await _error(client.views_open(trigger_id="1.2.abc", view=MODAL))

    view = opened["view"]
    assert view["id"].startswith("V") and view["hash"] and view["root_view_id"] == view["id"]
    assert view["callback_id"] == "edit" and view["private_metadata"] == "p-1"
    assert view["state"] == {"values": {}}
    assert reused.response["error"] == "exchanged_trigger_id"
    assert unknown.response["error"] == "invalid_trigger_id"
    modal = fake.modal("U0ALICE")
    assert modal is not None and modal.id == view["id"] and modal.trigger_id == trigger
    assert fake.modal("U0BOB") is None


async def test_triggers_expire_after_three_seconds() -> None:
    """A trigger used after its TTL answers expired_trigger_id."""
    now = [1_000.0]
    async with FakeSlack(clock=lambda: now[0]) as fake:
        client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=fake.api_url)
        trigger = fake.issue_trigger("U0ALICE")
        now[0] += 3.5
        expired = await _error(client.views_open(trigger_id=trigger, view=MODAL))

    assert expired.response["error"] == "expired_trigger_id"


async def test_a_modal_with_inputs_needs_a_submit_button(fake: FakeSlack, client: AsyncWebClient) -> None:
    """views.open refuses input blocks without submit, with Slack's explanation in response_metadata."""
    view = {key: value for key, value in MODAL.items() if key != "submit"}

    refused = await _error(client.views_open(trigger_id=fake.issue_trigger("U0ALICE"), view=view))

    assert refused.response["error"] == "invalid_arguments"
    assert "submit" in refused.response["response_metadata"]["messages"][0]


async def test_views_update_and_push(fake: FakeSlack, client: AsyncWebClient) -> None:
    """views.update keeps the id and checks the hash; views.push stacks a modal on top."""
    view = (await client.views_open(trigger_id=fake.issue_trigger("U0ALICE"), view=MODAL))["view"]
    retitled = {**MODAL, "title": {"type": "plain_text", "text": "Edit again"}}

    updated = (await client.views_update(view_id=view["id"], hash=view["hash"], view=retitled))["view"]
    stale = await _error(client.views_update(view_id=view["id"], hash=view["hash"], view=retitled))
    pushed = (await client.views_push(trigger_id=fake.issue_trigger("U0ALICE"), view=MODAL))["view"]

    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    assert updated["title"]["text"] == "Edit again"
    assert stale.response["error"] == "hash_conflict"
    assert pushed["previous_view_id"] == view["id"] and pushed["root_view_id"] == view["id"]
    top = fake.modal("U0ALICE")
    assert top is not None and top.id == pushed["id"]


async def test_users_info_reports_guests_and_deactivated_users(client: AsyncWebClient) -> None:
    """users.info answers Slack's user object: guests are restricted, the departed are deleted."""
    alice = (await client.users_info(user="U0ALICE"))["user"]
    guest = (await client.users_info(user="U0GUEST"))["user"]
    departed = (await client.users_info(user="U0DAVE"))["user"]
    missing = await _error(client.users_info(user="U0NOBODY"))

    assert alice["name"] == "alice"
    assert not (alice["is_bot"] or alice["deleted"] or alice["is_restricted"])
    assert alice["profile"]["display_name"] == "alice"
    assert guest["is_restricted"] is True
    assert departed["deleted"] is True
    assert missing.response["error"] == "user_not_found"


async def test_usergroups_list_their_members(client: AsyncWebClient) -> None:
    """usergroups.users.list answers the member ids; an unknown group is no_such_subteam."""
    members = await client.usergroups_users_list(usergroup="S0OPS")
    groups = await client.usergroups_list(include_users=True)
    missing = await _error(client.usergroups_users_list(usergroup="S0NOPE"))

    assert members["users"] == ["U0CAROL"]
    assert groups["usergroups"][0]["handle"] == "ops" and groups["usergroups"][0]["users"] == ["U0CAROL"]
    assert groups["usergroups"][0]["user_count"] == "1"
    assert missing.response["error"] == "no_such_subteam"


async def test_files_upload_v2_goes_through_the_external_upload_flow(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """files_upload_v2 gets an upload URL, posts the bytes there and completes into the thread."""
    parent = (await client.chat_postMessage(channel="C0OPS", text="card"))["ts"]

    response = await client.files_upload_v2(
        channel="C0OPS",
        thread_ts=parent,
        content="operator log\n",
        filename="operator.log",
        title="Operator log",
        initial_comment="full log attached",
    )

    assert response["file"]["title"] == "Operator log"
    assert [c.method for c in fake.calls()][-3:] == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]
    (upload,) = fake.files()
    assert upload.content == b"operator log\n" and upload.completed and upload.thread_ts == parent
    reply = fake.thread("C0OPS", parent)[1]
    assert reply.text == "full log attached" and reply.files[0]["id"] == upload.id


async def test_rate_limit_is_retried_after_retry_after(
    fake: FakeSlack, client: AsyncWebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 with Retry-After is retried by AsyncRateLimitErrorRetryHandler after that many seconds."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    # The handler sleeps Retry-After plus random() seconds; record the sleep instead of waiting it out.
    monkeypatch.setattr(retry_handlers, "asyncio", SimpleNamespace(sleep=sleep))
    monkeypatch.setattr(retry_handlers, "random", SimpleNamespace(random=lambda: 0.0))
    fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=2)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))

    response = await client.chat_postMessage(channel="C0OPS", text="card")

    assert response["ok"] is True
    assert slept == [2.0]
    first, second = fake.calls("chat.postMessage")
    assert (first.status, first.response) == (429, {"ok": False, "error": "ratelimited"})
    assert second.ok
    assert len(fake.messages("C0OPS")) == 1


async def test_rate_limit_without_a_handler_raises_with_retry_after(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """Without the retry handler a 429 raises SlackApiError carrying status 429 and Retry-After."""
    fake.fail_next("chat.postMessage", retry_after=1)

    error = await _error(client.chat_postMessage(channel="C0OPS", text="card"))

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "1"
    assert fake.messages("C0OPS") == []


async def test_server_errors_are_retried_by_the_server_error_handler(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """A 503 followed by success is absorbed by AsyncServerErrorRetryHandler."""
    fake.fail_next("chat.update", error="service_unavailable", status=503, retry_after=None)
    ts = (await client.chat_postMessage(channel="C0OPS", text="card"))["ts"]
    handler = AsyncServerErrorRetryHandler(
        max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0)
    )
    client.retry_handlers.append(handler)

    response = await client.chat_update(channel="C0OPS", ts=ts, text="approved")

    assert response["ok"] is True
    assert [c.status for c in fake.calls("chat.update")] == [503, 200]


async def test_failures_can_be_plain_error_codes(fake: FakeSlack, client: AsyncWebClient) -> None:
    """fail_next with status 200 answers ok:false with the code, then the method works again."""
    fake.fail_next("users.info", error="user_not_visible", status=200, times=2)

    errors = [(await _error(client.users_info(user="U0BOB"))).response["error"] for _ in range(2)]
    recovered = await client.users_info(user="U0BOB")

    assert errors == ["user_not_visible", "user_not_visible"]
    assert recovered["user"]["id"] == "U0BOB"


async def test_response_urls_behave_like_slacks(fake: FakeSlack, client: AsyncWebClient) -> None:
    """Ephemeral by default, in_channel posts, replace_original and delete_original edit the source."""
    ts = (await client.chat_postMessage(channel="C0OPS", text="card", blocks=CARD))["ts"]
    url = fake.response_url("C0OPS", "U0BOB", message_ts=ts)
    webhook = AsyncWebhookClient(url)

    private = await webhook.send(text="only you")
    public = await webhook.send(text="for everyone", response_type="in_channel")
    replaced = await webhook.send(text="approved", replace_original=True)

    assert (private.status_code, private.body) == (200, "ok")
    assert [e.text for e in fake.ephemerals("U0BOB")] == ["only you"]
    assert public.status_code == 200 and replaced.status_code == 200
    assert [m.text for m in fake.messages("C0OPS")] == ["approved", "for everyone"]
    assert fake.messages("C0OPS")[0].blocks == []
    deleted = await webhook.send(text="", delete_original=True)
    assert deleted.status_code == 200 and [m.text for m in fake.messages("C0OPS")] == ["for everyone"]
    fifth = await webhook.send(text="fifth")
    sixth = await webhook.send(text="sixth")
    assert fifth.status_code == 200 and (sixth.status_code, sixth.body) == (404, "used_url")
    assert [c.method for c in fake.calls("response_url")] == ["response_url"] * 6


async def test_unknown_methods_are_refused(client: AsyncWebClient) -> None:
    """A method the fake does not serve answers unknown_method rather than a silent ok."""
    error = await _error(client.api_call("reactions.add", params={"name": "eyes"}))

    assert error.response["error"] == "unknown_method"


async def test_wait_for_returns_once_the_bot_has_called(fake: FakeSlack, client: AsyncWebClient) -> None:
    """wait_for wakes on the call it waits for and returns the predicate's value."""

    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C0OPS", text="late")

    task = asyncio.create_task(later())
    calls = await fake.wait_for(lambda: fake.calls("chat.postMessage"), timeout=30)
    await task

    assert calls[0].args["text"] == "late"


async def test_wait_for_gives_up_with_the_calls_it_saw(fake: FakeSlack, client: AsyncWebClient) -> None:
    """wait_for raises WaitTimeout (a TimeoutError) naming the recent calls."""
    await client.auth_test()

    with pytest.raises(WaitTimeout, match=r"auth\.test"):
        await fake.wait_for(lambda: fake.calls("chat.update"), timeout=0.05)


async def test_the_page_shows_when_each_message_was_posted_not_the_ts_counter(fake: FakeSlack) -> None:
    """``ts`` is a reproducible counter (2024): the page gets the wall-clock time of each message."""
    import time

    from bot.playground.model import PLAYGROUND_CHANNEL
    from bot.playground.snapshot import snapshot

    before = time.time()
    ws = fake.workspace
    ws.post(ws.channel(PLAYGROUND_CHANNEL.id), text="hello")
    ws.add_ephemeral(PLAYGROUND_CHANNEL.id, "U0ALICE", text="only you", source="response_url")
    page = snapshot(ws, user=ws.user("U0ALICE"), channel=ws.channel(PLAYGROUND_CHANNEL.id), echoes=())
    [message] = page["messages"]
    assert float(message["ts"]) < before - 3600  # the counter is far in the past
    assert before - 1 <= message["posted_at"] <= time.time() + 1
    assert before - 1 <= page["ephemerals"][0]["posted_at"] <= time.time() + 1
