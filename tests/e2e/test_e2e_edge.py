"""The edge as an attacker tries it, through the bot's real HTTP endpoint.

Unsigned bodies are refused before anything parses them; signed ones are parsed with bounds; text a
person types reaches Slack escaped; ids are ASCII digits; health and metrics are not on Slack's port.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import aiohttp
import pytest
from conftest import ALICE, BOB, CAROL, CHANNEL, E2E, eventually, open_e2e

from bot import texts
from bot.playground.signing import FORM, sign_request

HOSTILE = "<!channel> <https://evil.example|Click to approve> <@U0CAROL>"
# Every Slack control sequence: <!…>, <@…>, <#…>, links.
CONTROL = re.compile(r"<[^<>]*>")
_DATE = re.compile(r"<!date\^\d+\^[^|<>]*\|[^<>]*>")


async def _post(e2e: E2E, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(e2e.bot.url + "/slack/events", data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.text()


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.web" and "refused" in r.getMessage()]


async def test_an_unsigned_deeply_nested_payload_is_401_with_one_short_log_line(
    e2e: E2E, caplog: pytest.LogCaptureFixture
) -> None:
    """``payload=[[[[…`` without a signature: 401 before anything parses it, one line, no traceback."""
    caplog.set_level(logging.DEBUG)
    body = b"payload=" + b"[" * 1500
    status, answer = await _post(e2e, body, {"Content-Type": FORM})
    assert status == 401, answer
    assert "Traceback" not in caplog.text
    [line] = _refusals(caplog)
    assert line.exc_info is None and len(line.getMessage()) < 200
    assert "[[[" not in caplog.text  # nothing of the body is logged
    # A wrong signature on the same body: the same answer.
    status, _ = await _post(e2e, body, sign_request("not-the-secret", body))
    assert status == 401
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("depth", [200, 1500, 100_000])
async def test_a_signed_deeply_nested_payload_is_400_never_500(
    e2e: E2E, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    """Signed, but nested deeper than Slack ever nests: 400 with the reason, nothing run."""
    for body in (
        b"payload=" + quote("[" * depth + "]" * depth).encode(),
        b'{"type":"event_callback","event":' + b"[" * depth + b"]" * depth + b"}",
    ):
        headers = sign_request(
            "e2e-signing-secret", body, content_type="application/json" if body.startswith(b"{") else FORM
        )
        status, answer = await _post(e2e, body, headers)
        assert status == 400 and "nests deeper" in answer, (status, answer[:200])
    assert "Traceback" not in caplog.text
    assert [c.method for c in e2e.fake.calls() if c.method != "auth.test"] == []


async def test_the_slack_port_serves_only_slack_events(e2e: E2E) -> None:
    """/metrics and health are on METRICS_PORT; Slack's port answers 404 for them."""
    async with aiohttp.ClientSession() as session:
        for path in ("/metrics", "/healthz", "/livez", "/readyz"):
            async with session.get(e2e.bot.url + path) as answer:
                assert answer.status == 404, path
        async with session.get(e2e.bot.ops_url + "/livez") as answer:
            assert answer.status == 200
        async with session.get(e2e.bot.ops_url + "/metrics") as answer:
            assert answer.status == 200
            assert 'tikv_chatops_proposals{cluster="default",state="pending"}' in await answer.text()

        async def ready() -> bool:
            async with session.get(e2e.bot.ops_url + "/readyz") as answer:
                report = await answer.json()
                return answer.status == 200 and report["pd"]["ok"] and report["slack"]["ok"]

        assert await eventually(ready, limit=30)


@pytest.mark.parametrize(
    ("text", "told"),
    [
        ("transfer-leader ١٢ ３", "digits 0-9"),
        ("transfer-leader 12 ３", "digits 0-9"),
        ("region ١٢", "whole number"),
        ("store ３", "whole number"),
        ("undo #١", "proposal id"),
    ],
)
async def test_ids_in_other_scripts_digits_are_refused(e2e: E2E, text: str, told: str) -> None:
    """``transfer-leader`` with Arabic-Indic or fullwidth digits is not region 12 and store 3: the person
    is told to use the digits 0-9, nothing is proposed."""
    delivery = await e2e.relay.command(ALICE, text)
    assert delivery.ok
    answers = await e2e.fake.wait_for(lambda: e2e.ephemeral_texts(ALICE) or None)
    assert any(told in a for a in answers), answers
    await e2e.quiesce(quiet=0.3)
    assert e2e.cards() == []
    assert await e2e.bot.store.list_proposals(limit=5) == []
    assert e2e.tap.writes() == []


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _strings(value)


def injected(node: Any, *, allowed_users: set[str]) -> list[str]:
    """Every control sequence in ``node``'s strings that the bot did not write itself."""
    found = []
    for text in _strings(node):
        for match in CONTROL.finditer(text):
            sequence = match.group()
            # The bot itself links the people involved and the channel its card is in.
            own = {f"<@{u}>" for u in allowed_users} | {f"<#{CHANNEL}>"}
            if _DATE.fullmatch(sequence) or sequence in own:
                continue
            found.append(sequence)
    return found


async def test_a_hostile_config_value_typed_into_edit_reaches_slack_escaped(e2e: E2E) -> None:
    """Alice proposes a config change, edits its value to mentions and a link, Bob approves it: the card,
    its notification text, the PD request, the pd-ctl line and the thread result show the text, escaped;
    no @channel, no mention of Carol and no link reaches Slack."""
    card = await e2e.propose(ALICE, "set-config isolation-level zone")
    proposal = await e2e.proposal(card)
    await e2e.click(ALICE, card, texts.ActionId.EDIT)
    modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(ALICE))
    submitted = await e2e.relay.submit(
        ALICE, view_id=modal.id, values={"param:value": {texts.INPUT_ACTION: HOSTILE}}
    )
    assert submitted.ok
    edited = (submitted.json() or {}).get("response_action") != "errors"
    if edited:
        await eventually(lambda: _revision(e2e, proposal.id, 2), limit=30)
        await eventually(lambda: "&lt;!channel&gt;" in json.dumps(e2e.card(card).blocks), limit=30)
        assert "&lt;!channel&gt;" in e2e.card(card).text
        await e2e.click(BOB, card, texts.ActionId.APPROVE)
        await e2e.fake.wait_for(
            lambda: [r for r in e2e.replies(card) if f"#{proposal.id}" in r.text], timeout=10
        )
    await e2e.quiesce()

    sent = [call.args for call in e2e.fake.calls()]
    assert HOSTILE not in json.dumps(sent)  # shown only escaped, if at all
    assert injected(sent, allowed_users={ALICE, BOB}) == []
    assert any(CAROL in s for s in _strings(sent)) is edited  # Carol's id went out, escaped, if edited


async def _revision(e2e: E2E, proposal_id: int, revision: int) -> bool:
    return (await e2e.bot.operations.get(proposal_id)).revision == revision


async def test_at_debug_no_response_url_reaches_the_log(tmp_path: Path) -> None:
    """With every logger at DEBUG (slack_sdk's included), commands answered through response URLs leave
    none of those URLs in the log, and no token or signing secret either."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    names = ("", "slack_sdk", "slack_bolt", "bot", "aiohttp")
    levels = {name: logging.getLogger(name).level for name in names}
    root.addHandler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    urls: list[str] = []
    try:
        async with open_e2e(tmp_path, LOG_LEVEL="DEBUG") as e2e:
            for text in ("help", "status", "dry-run scatter-region 2", "pending"):
                delivery = await e2e.relay.command(ALICE, text)
                assert delivery.ok
                urls += parse_qs(delivery.request_body.decode())["response_url"]
            await e2e.fake.wait_for(lambda: len(e2e.fake.calls("response_url")) >= 3 or None, timeout=30)
            await e2e.quiesce()
            token = e2e.fake.token
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    log = captured.getvalue()
    assert "DEBUG slack_sdk" in log, "slack_sdk's DEBUG lines were not captured"
    assert urls and all(url.startswith("http") for url in urls)
    leaked = [url for url in urls if url in log or url.rsplit("/", 1)[-1] in log]
    shown = [line for line in log.splitlines() if any(u.rsplit("/", 1)[-1] in line for u in urls)]
    assert leaked == [], shown[:3]
    assert token not in log and "e2e-signing-secret" not in log
