"""The one error handler: refusals reach the person as written; anything else is a fixed sentence."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import bot_samples as samples
import pytest
from slack_bolt.context.respond.async_respond import AsyncRespond

from actions.errors import ClusterUnavailable, PolicyRefusal, PreflightFailed, StaleDecision
from bot import texts
from bot.bolt import build_web_client
from bot.errors import GrammarError, IdentityRefused
from bot.listeners.errors import answer_for, report_error
from bot.playground.fake_slack import FakeSlack

CHANNEL, USER = "C0OPS", "U0ALICE"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack


@pytest.mark.parametrize(
    "error",
    [
        PolicyRefusal("You requested this action, so someone else has to approve it."),
        StaleDecision("Proposal #7 is already succeeded; there is nothing left to decide."),
        ClusterUnavailable("PD did not answer about region 12 within 5s; try again."),
        IdentityRefused(texts.IDENTITY_GUEST),
    ],
)
def test_refusals_are_shown_as_written(error: Exception) -> None:
    """ActionError, IdentityRefused: the person reads the error's own sentence."""
    assert answer_for(error).text == str(error)


def test_a_preflight_refusal_shows_its_checks() -> None:
    """PreflightFailed carries its report: every check is shown with the refusal."""
    error = PreflightFailed("Not proposed: a check fails.", report=samples.checks(3, fail=1))
    payload = answer_for(error).payload()
    assert "check-000" in str(payload["blocks"]) and "❌" in str(payload["blocks"])


def test_a_grammar_error_shows_the_usage() -> None:
    """A typo answers with the usage line."""
    payload = answer_for(GrammarError("region takes one id", usage="/tikv region REGION_ID")).payload()
    assert "/tikv region REGION_ID" in str(payload["blocks"])


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("db password=hunter2 at /srv/x.py line 3"),
        KeyError("internal_key"),
        ValueError("bad value 0x1"),
    ],
)
def test_unexpected_errors_say_one_fixed_sentence(error: Exception) -> None:
    """Never str() of an unexpected exception, never a trace: the fixed sentence only."""
    message = answer_for(error)
    assert message.text == texts.UNEXPECTED_ERROR
    assert str(error) not in str(message.payload())


async def test_the_handler_logs_the_trace_and_answers_through_the_response_url(
    fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """A command's failure: logged with its traceback, the person gets the fixed sentence ephemerally."""
    url = fake.response_url(CHANNEL, USER)
    try:
        raise RuntimeError("secret internals")
    except RuntimeError as exc:
        error = exc
    with caplog.at_level(logging.INFO):
        await report_error(
            error, {"response_url": url, "user_id": USER}, AsyncRespond(response_url=url), None
        )
    [shown] = fake.ephemerals(user=USER)
    assert shown.text == texts.UNEXPECTED_ERROR and "secret" not in str(shown.blocks)
    record = next(r for r in caplog.records if r.name == "bot.errors")
    assert record.levelno == logging.ERROR and record.exc_info is not None


async def test_a_modal_refusal_goes_to_the_channel_of_its_card(fake: FakeSlack) -> None:
    """A view submission has no response URL: the refusal is a chat.postEphemeral where the card is."""
    body = {
        "type": "view_submission",
        "user": {"id": USER},
        "view": {"private_metadata": '{"p":7,"r":1,"c":"C0OPS"}'},
    }
    client = build_web_client(fake.token, base_url=fake.api_url)
    await report_error(StaleDecision("Proposal #7 is already rejected."), body, None, client)
    [call] = fake.calls("chat.postEphemeral")
    assert call.args["channel"] == CHANNEL and call.args["user"] == USER
    assert fake.ephemerals(user=USER)[0].text == "Proposal #7 is already rejected."


async def test_telling_the_person_never_raises(fake: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    """If Slack refuses the answer too, the handler logs it and returns."""
    fake.fail_next("chat.postEphemeral", error="user_not_in_channel", status=200)
    body = {"user": {"id": USER}, "channel": {"id": CHANNEL}}
    client = build_web_client(fake.token, base_url=fake.api_url)
    await report_error(PolicyRefusal("no"), body, None, client)
    assert "could not tell the user" in caplog.text
