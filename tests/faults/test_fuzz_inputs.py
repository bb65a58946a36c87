"""Fuzzed ``/tikv`` texts and malformed interaction payloads against the bot's real HTTP endpoint.

Issue requirement: "10,000 hypothesis-generated ``/tikv`` texts and malformed interaction payloads:
always 200 or 4xx with a helpful message, never 500, never an action."

One bot per module (``fault_env``: FakeSlack, the PD simulator behind a recording tap, the real
composition root) runs on an event loop of its own thread, so Hypothesis drives it from plain
synchronous tests and the bot's lazy listeners keep working between examples. Each example is one
signed request sent through ``BotRelay``; its ack status is checked at once (so Hypothesis can shrink a
failing text), and what the person was answered (through the command's response URL) is checked in
batches, without waiting for each answer.

"Never an action" is read from PD's side: the tap records every request the bot sends PD, and no
non-GET may appear; a text that names a valid action only creates a PENDING proposal, and nothing can
approve it here.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from faults_support import ALICE, BOB, CHANNEL, SECRET, FaultEnv, fault_env, healthy_regions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.catalog import CATALOG
from actions.config_keys import CONFIG_KEYS
from actions.models import ProposalState
from actions.params import SCHEDULER_TYPES, SPLIT_POLICIES, STORE_LIMIT_TYPES
from bot import texts
from bot.playground import signing
from bot.playground.fake_slack import RESPONSE_URL
from bot.playground.model import Call
from bot.playground.relay import Delivery
from bot.playground.workspace import find_element

T = TypeVar("T")

# About 80 s on a quiet machine for 10,000 commands through the whole bot, and three times that
# when other processes keep both cores busy: the suite-wide 240 s timeout would cut it short.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

GUEST = "U0GUEST"
EXAMPLES = 10_000
BATCH = 500  # answers are checked every BATCH examples, and once more at the end
ANSWER_WAIT = 30.0  # seconds the bot gets to answer a batch of commands
TRACEBACK = "Traceback"


# --- the bot on a thread of its own -----------------------------------------------------------------


class BotThread:
    """``fault_env`` running on an event loop in a thread; ``call`` runs a coroutine there and waits."""

    def __init__(self, tmp_path: Path, **extra: str) -> None:
        self._tmp_path = tmp_path
        self._extra = extra
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fuzzed-bot", daemon=True)
        self.env: FaultEnv | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test thread by start()
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with fault_env(self._tmp_path, **self._extra) as env:
            self.env = env
            self._ready.set()
            await self._stop.wait()

    def start(self) -> FaultEnv:
        self._thread.start()
        self._ready.wait(60)
        if self._failure is not None:
            raise self._failure
        assert self.env is not None, "the bot did not start within 60 s"
        return self.env

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        if self._failure is not None:
            raise self._failure


@dataclass
class Fuzzed:
    """The running bot and what the fuzzing sent it."""

    bot: BotThread
    env: FaultEnv
    sent: list[tuple[str, str]] = field(default_factory=list)  # (text, response URL) not yet checked
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # every answer's text, for the summary

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return self.bot.call(coro, timeout)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """One bot for the module. The work queue is deep enough that no request is answered "busy"
    (every text reaches the parser), and dry-runs answer through the response URL like the rest."""
    bot = BotThread(
        tmp_path_factory.mktemp("fuzz"),
        WORK_QUEUE="100000",
        WORK_CONCURRENCY="16",
        DRY_RUN_EPHEMERAL="true",
    )
    env = bot.start()
    try:
        yield Fuzzed(bot, env)
    finally:
        bot.stop()


# --- what was answered ------------------------------------------------------------------------------


def response_target(delivery: Delivery) -> str:
    """The response URL's path the relay issued for this request (``/response/R…``)."""
    form = parse_qs(delivery.request_body.decode())
    if "payload" in form:
        url = str(json.loads(form["payload"][0]).get("response_url") or "")
    else:
        url = form["response_url"][0]
    return urlsplit(url).path


def no_pd_write(env: FaultEnv) -> None:
    writes = env.pd_writes()
    assert not writes, f"the bot wrote to PD: {writes[:3]}"
    assert not env.operators, f"PD accepted operators: {env.operators[:3]}"


def answers_by_target(env: FaultEnv) -> dict[str, list[Call]]:
    """Every post to a response URL, by the URL's path."""
    found: dict[str, list[Call]] = {}
    for call in env.fake.calls(RESPONSE_URL):
        found.setdefault(call.path, []).append(call)
    return found


def check_answers(fz: Fuzzed, *, wait: float = ANSWER_WAIT) -> None:
    """Every command sent since the last check was answered through its response URL with a message
    Slack accepted, not empty, showing no traceback. Problems are collected rather than raised: they
    belong to earlier examples, not to the one Hypothesis is running."""
    pending, fz.sent = fz.sent, []
    deadline = time.monotonic() + wait
    while True:
        answered = answers_by_target(fz.env)
        if all(path in answered for _text, path in pending) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for text, path in pending:
        shown = f"/tikv {text[:200]!r}"
        calls = answered.get(path, [])
        if not calls:
            fz.problems.append(f"no answer to {shown}")
        for call in calls:
            body = json.dumps(call.args, ensure_ascii=False)
            if not str(call.args.get("text") or "").strip():
                fz.problems.append(f"an empty answer to {shown}: {body[:300]}")
            if TRACEBACK in body:
                fz.problems.append(f"a traceback shown for {shown}: {body[:300]}")
            if call.status != 200:
                fz.problems.append(f"Slack refused the answer to {shown}: {call.status} {call.response}")
            fz.answers.append(str(call.args.get("text") or ""))
    fz.checked += len(pending)


# --- the texts --------------------------------------------------------------------------------------

ACTION_WORDS = sorted({word for spec in CATALOG.values() for word in (*spec.words, spec.action.value)})
COMMAND_WORDS = [
    "help", "-h", "--help", "?", "status", "pending", "region", "store", "audit", "undo",
    "dry-run", "dryrun", "--dry-run", "HELP", "Status", "DRY-RUN",
]  # fmt: skip
KEYWORDS = [
    "region", "store", "ticket", "proposal", "all", "usekey", "payload", "token", "true", "false",
    "10m", "2h", "7d", "30m0s", "1.5", "on", "off",
    *SPLIT_POLICIES, *STORE_LIMIT_TYPES, *SCHEDULER_TYPES, *sorted(CONFIG_KEYS),
    *(t.removesuffix("-scheduler") for t in SCHEDULER_TYPES),
]  # fmt: skip
CLUSTER_FLAGS = [
    "-c",
    "--cluster",
    "--cluster=",
    "--cluster=default",
    "-c default",
    "-c other",
    "--cluster=ü",
]
ODD_NUMBERS = [
    "0", "-0", "00", "007", "+1", "-1", "1e9", "1.0", "0x1F", "1_000", "9" * 18, "9" * 19, "9" * 400,
    "１２", "١٢", "½", "²", "NaN", "inf", "-inf", "#", "#-1", "p", "P12", "#0", "１", "⁵",
]  # fmt: skip
ODD_WORDS = [
    '"', "'", "`", "```", '"12"', "'3'", "“12”", "<!channel>", "<@U0BOB>", "<#C0OPS|ops>", "*bold*",
    "_it_", "~s~", "&amp;", "&lt;", "<script>", "%00", "%s", "%d", "{}", "{0}", "{word}", "{text}",
    "{id}", "{{", "}}", "\\", "\\n", "$(id)", ";", "&&", "|", "--", "-", "=", "==", "null", "None",
    "undefined", "[]", "{\"a\":1}", "payload={}", "\u200b", "\ufeff", "\u202e", "🔥", "👍🏽", "ß", "İ",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\t", "\n", "\u00a0", "\u3000", "\r\n", " \x0b "]


# Strategies are built once: Hypothesis draws from a prebuilt strategy far faster than from one
# rebuilt in every example.
NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=70).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=70).map(lambda n: f"#{n}"),
    st.integers(min_value=0, max_value=70).map(lambda n: f"p{n}"),
    st.sampled_from(ODD_NUMBERS),
)
HEX_KEYS = st.one_of(
    st.binary(max_size=24).map(lambda b: b.hex().upper()),
    st.binary(max_size=24).map(bytes.hex),
    st.text("0123456789abcdefABCDEFxz", min_size=1, max_size=33),
)
ODD_TEXT = st.one_of(
    st.sampled_from(ODD_WORDS),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), min_size=1, max_size=4),
    st.text(min_size=1, max_size=12),
)
WORDS = st.one_of(
    st.sampled_from(ACTION_WORDS),
    st.sampled_from(COMMAND_WORDS),
    st.sampled_from(KEYWORDS),
    NUMBERS,
    NUMBERS,
    HEX_KEYS,
    ODD_TEXT,
)
HEADS = st.one_of(st.sampled_from(COMMAND_WORDS), st.sampled_from(ACTION_WORDS), WORDS)
ARGUMENTS = st.lists(st.tuples(st.sampled_from(SEPARATORS), WORDS), max_size=7)
FLAG = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(CLUSTER_FLAGS))
DRY_RUN_ACTION = st.one_of(st.none(), st.sampled_from(ACTION_WORDS))


@st.composite
def grammar_texts(draw: st.DrawFn) -> str:
    """A text built from the grammar's words: a command or action, arguments of every kind, a flag."""
    head = draw(HEADS)
    parts = [head]
    if head.lower() in ("dry-run", "dryrun", "--dry-run"):
        action = draw(DRY_RUN_ACTION)
        if action is not None:
            parts.append(" " + action)
    parts.extend(sep + word for sep, word in draw(ARGUMENTS))
    flag = draw(FLAG)
    if flag is not None:
        parts.insert(draw(st.integers(0, len(parts))), " " + flag + " ")
    return "".join(parts)


SMALL_IDS = st.integers(min_value=1, max_value=70).map(str)  # the simulator has 5 stores, 60 regions
IDS = st.one_of(SMALL_IDS, SMALL_IDS, SMALL_IDS, NUMBERS)
DURATIONS = st.one_of(
    st.integers(min_value=-10, max_value=10**7).map(str),
    st.builds(
        lambda n, unit: f"{n}{unit}", st.integers(0, 10**6), st.sampled_from(["s", "m", "h", "d", "ms", "w"])
    ),
)
CONFIG_VALUES = st.one_of(
    NUMBERS,
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "false", "on", "off", "yes", "1", "30m", "1h30m", "-5s", "zone,host", ""]),
)
# What each parameter's position gets (by the catalog's field name): mostly the right kind of word,
# sometimes any word at all.
PROPER: dict[str, st.SearchStrategy[str]] = {
    "policy": st.sampled_from([*SPLIT_POLICIES, "SCAN", "usekeys"]),
    "keys": st.lists(HEX_KEYS, max_size=4).map(" ".join),
    "scheduler": st.sampled_from([*SCHEDULER_TYPES, "all", "balance-region", "Balance-Leader", "-x"]),
    "delay_seconds": DURATIONS,
    "key": st.sampled_from([*sorted(CONFIG_KEYS), "max-replicas ", "schedule.leader-schedule-limit"]),
    "value": CONFIG_VALUES,
    "rate": st.one_of(NUMBERS, st.floats().map(repr)),
    "limit_type": st.sampled_from([*STORE_LIMIT_TYPES, "both", "ADD-PEER"]),
}


def param_words(name: str) -> st.SearchStrategy[str]:
    proper = PROPER.get(name, IDS)  # every other parameter is a region or store id
    return st.one_of(proper, proper, proper, WORDS)


EXTRA_WORDS = st.one_of(st.just(()), st.just(()), st.just(()), st.tuples(WORDS))
ACTION_TEXTS = st.one_of(
    *(
        st.builds(
            lambda word, args, extra, dry: " ".join([*dry, word, *args, *extra]),
            st.sampled_from(spec.words),
            st.tuples(*(param_words(p.name) for p in spec.params)),
            EXTRA_WORDS,
            st.sampled_from(
                [(), (), ("dry-run",), ("--dry-run",), ("-c", "default"), ("dry-run", "-c", "x")]
            ),
        )
        for spec in CATALOG.values()
    )
)
"""An action with arguments of the right kind, mostly: proposals, dry-runs and every refusal."""

READ_TEXTS = st.one_of(
    st.builds(lambda what, n: f"{what} {n}", st.sampled_from(["region", "store", "undo"]), IDS),
    st.builds(lambda n: f"audit {n}", NUMBERS),
    st.builds(
        lambda kind, n, rows: f"audit {kind} {n} {rows}".strip(),
        st.sampled_from(["region", "store", "ticket", "proposal", "Region", "regions"]),
        IDS,
        st.one_of(st.just(""), NUMBERS),
    ),
    st.builds(lambda word: f"help {word}", st.one_of(st.sampled_from(ACTION_WORDS), WORDS)),
    st.sampled_from(["", "status", "pending", "help", "audit", "-c default status", "--cluster=x pending"]),
)
"""The read commands with their arguments: help, status, pending, region, store, audit, undo."""

LONG_TEXTS = st.builds(
    lambda head, word, times: f"{head} " + " ".join([word] * times),
    st.sampled_from([*ACTION_WORDS, *COMMAND_WORDS, ""]),
    WORDS,
    st.integers(min_value=50, max_value=3000),
)
"""Thousands of characters: a word repeated after an action or command."""

GRAMMAR_TEXTS = grammar_texts()
TIKV_TEXTS = st.one_of(
    ACTION_TEXTS, ACTION_TEXTS, READ_TEXTS, GRAMMAR_TEXTS, GRAMMAR_TEXTS, st.text(max_size=80), LONG_TEXTS
)


# --- the fuzzing ------------------------------------------------------------------------------------


def test_fuzzed_tikv_texts_are_acked_answered_and_never_act(fuzzed: Fuzzed) -> None:
    """10,000 generated /tikv texts (the grammar's words in every order, numbers negative and huge,
    hex keys, quotes, unicode and control characters, texts thousands of characters long, arbitrary
    text) from three people: each is acked 200 at once, each gets a non-empty answer without a
    traceback, PD never receives a write, and every proposal a valid text created is still pending."""
    fz = fuzzed
    started = time.monotonic()
    before = {p.id for p in fz.call(fz.env.bot.store.list_proposals(limit=100_000))}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(text=TIKV_TEXTS, user=st.sampled_from([ALICE, BOB, GUEST]))
    def one_text(text: str, user: str) -> None:
        delivery = fz.call(fz.env.relay.command(user, text))
        assert delivery.status is not None, delivery
        assert delivery.status == 200, (delivery.status, delivery.body[:300])
        ack = delivery.json()
        if ack is not None and ack.get("text"):
            assert TRACEBACK not in delivery.body
        else:
            fz.sent.append((text, response_target(delivery)))
        no_pd_write(fz.env)
        if len(fz.sent) >= BATCH:
            check_answers(fz)

    one_text()
    check_answers(fz)
    elapsed = time.monotonic() - started
    print(f"{fz.checked} texts answered in {elapsed:.1f}s")
    assert not fz.problems, "\n".join(fz.problems[:30])
    assert fz.checked >= EXAMPLES
    no_pd_write(fz.env)
    proposals = [p for p in fz.call(fz.env.bot.store.list_proposals(limit=100_000)) if p.id not in before]
    assert proposals, "no generated text was a valid proposal: the strategies miss the grammar"
    assert all(p.state is ProposalState.PENDING for p in proposals), [
        (p.id, p.state) for p in proposals if p.state is not ProposalState.PENDING
    ]


# --- malformed requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One raw request and what came back."""

    name: str
    status: int
    body: str
    response_path: str | None  # the response URL it carried, when the person can be answered there


async def post_raw(env: FaultEnv, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(env.relay.bot_url, data=body, headers=headers) as answer:
            return answer.status, await answer.text()


@dataclass
class Card:
    """ALICE's pending proposal card and the payloads clicks and submissions on it carry.

    Every click is ALICE's, on her own proposal: even a payload the bot read perfectly could not
    approve it (a requester never approves their own), so any PD write is a bug in reading the payload.
    """

    env: FaultEnv
    ts: str
    proposal_id: int

    def click(
        self, action_id: str = texts.ActionId.APPROVE.value, **changes: Any
    ) -> tuple[dict[str, Any], str]:
        """A block_actions payload for ALICE's click on the card; ``changes`` set (or, with ``...``,
        remove) top-level keys, ``value=`` the action's value. Returns it and its response URL's path."""
        ws = self.env.fake.workspace
        message = ws.find_message(CHANNEL, self.ts)
        assert message is not None
        block_id, element = find_element(message.blocks, texts.ActionId.APPROVE.value, None)
        action = signing.action_json(element, block_id=block_id, action_ts=f"{time.time():.6f}")
        action["action_id"] = action_id
        value = changes.pop("value", None)
        if value is ...:
            action.pop("value", None)
        elif value is not None:
            action["value"] = value
        url = ws.response_url(CHANNEL, ALICE, message_ts=self.ts)
        payload = signing.block_actions_payload(
            self.env.relay._actor(ws.user(ALICE)),
            action=action,
            trigger_id=ws.issue_trigger(ALICE),
            channel_id=CHANNEL,
            channel_name="ops",
            message=message.to_slack(),
            message_ts=self.ts,
            response_url=url,
            state={},
        )
        for key, new in changes.items():
            if new is ...:
                payload.pop(key, None)
            else:
                payload[key] = new
        return payload, urlsplit(url).path

    def submission(self, modal: str, **view_changes: Any) -> dict[str, Any]:
        """A view_submission payload for the card's Reject or Edit modal, ``view_changes`` applied to
        its view (``...`` removes a key)."""
        ws = self.env.fake.workspace
        context = {"p": self.proposal_id, "r": 1, "a": "transfer-leader", "c": CHANNEL, "t": self.ts}
        view = {
            "id": "V0FUZZ",
            "type": "modal",
            "callback_id": modal,
            "private_metadata": json.dumps(context),
            "blocks": [],
        }
        payload = signing.view_submission_payload(
            self.env.relay._actor(ws.user(ALICE)), view=view, state={}, trigger_id=ws.issue_trigger(ALICE)
        )
        for key, new in view_changes.items():
            if new is ...:
                payload["view"].pop(key, None)
            else:
                payload["view"][key] = new
        return dict(payload)


@pytest.fixture(scope="module")
def card(fuzzed: Fuzzed) -> Card:
    """ALICE's pending transfer-leader proposal, its card in the channel."""
    env = fuzzed.env
    region, _leader, followers = healthy_regions(env.model)[0]
    message = fuzzed.call(env.propose(ALICE, f"transfer-leader {region} {followers[0]}"))
    proposal = fuzzed.call(env.proposal(message))
    return Card(env, message.ts, proposal.id)


def form(payload: Any) -> bytes:
    """An interaction's form body for any JSON value (``signing.interaction_body`` wants a mapping)."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


SOME = "some answer"  # the person is told something: not empty, no traceback
APPROVE, REJECT, EDIT, PAGE = (a.value for a in texts.ActionId)
NO_PROPOSAL = 99_999_999
JSON = "application/json"


@dataclass(frozen=True)
class Case:
    """One malformed request: its body and headers, the statuses allowed, what the person is told."""

    name: str
    body: bytes
    statuses: frozenset[int]
    headers: dict[str, str] | None = None  # signed with the bot's secret when None
    told: str | None = None  # SOME, or text the answer must contain; None: nobody to tell
    response_path: str | None = None


def malformed_cases(card: Card) -> list[Case]:
    ok, bad, unhandled = frozenset({200}), frozenset({400}), frozenset({404})

    def click(
        name: str, statuses: frozenset[int], told: str | None, action_id: str = APPROVE, **kw: Any
    ) -> Case:
        payload, path = card.click(action_id, **kw)
        return Case(name, form(payload), statuses, told=told, response_path=path)

    def submit(name: str, statuses: frozenset[int], modal: str, **kw: Any) -> Case:
        return Case(name, form(card.submission(modal, **kw)), statuses)

    command = urlencode({"command": "/tikv", "text": "status", "response_url": ""}).encode()
    stale = str(int(time.time()) - 3600)
    stamped = b"command=%2Ftikv&text=status&user_id=U0ALICE"
    huge = b"payload=" + b"a" * 2_000_000
    unknown = b'{"type":"nothing"}'
    return [
        click("unknown action_id", unhandled, None, action_id="tikv_self_destruct"),
        click("value not a number", ok, texts.CARD_UNREADABLE, value="abc"),
        click("value missing", ok, SOME, value=...),
        click("value a JSON number", ok, f"#{NO_PROPOSAL}", value=NO_PROPOSAL),
        click("value a JSON list", ok, SOME, value=[1, 2]),
        click(
            "proposal that does not exist",
            ok,
            f"There is no proposal #{NO_PROPOSAL}",
            value=f"{NO_PROPOSAL}:1",
        ),
        click("proposal id of 5000 digits", ok, SOME, value="9" * 5000),
        click("negative proposal id", ok, SOME, value="-3:1"),
        click("revision not a number", ok, texts.CARD_UNREADABLE, value=f"{card.proposal_id}:x"),
        click("reject with garbage value", ok, texts.CARD_UNREADABLE, action_id=REJECT, value="abc"),
        click(
            "edit of a proposal that does not exist",
            ok,
            f"#{NO_PROPOSAL}",
            action_id=EDIT,
            value=str(NO_PROPOSAL),
        ),
        click("page with garbage value", ok, SOME, action_id=PAGE, value="%%%"),
        click(
            "page replaying an action",
            ok,
            texts.CARD_UNREADABLE,
            action_id=PAGE,
            value='{"c":"transfer-leader 1 2","p":1}',
        ),
        click("user missing", ok, texts.REQUEST_UNREADABLE, user=...),
        click("user a string", ok, texts.REQUEST_UNREADABLE, user=ALICE),
        click("container a string", ok, SOME, container="x"),
        click("channel a string", ok, SOME, channel="x"),
        click("response_url missing", ok, None, response_url=...),
        click("actions empty", bad, None, actions=[]),
        click("actions a string", bad, None, actions="x"),
        click("actions of strings", bad, None, actions=["x"]),
        click("action without action_id", bad, None, actions=[{"value": "1"}]),
        click("actions missing", unhandled, None, actions=...),
        submit("reject without state", ok, texts.CallbackId.REJECT.value, state=...),
        submit("reject with garbage metadata", ok, texts.CallbackId.REJECT.value, private_metadata="{no"),
        submit("edit with values a list", ok, texts.CallbackId.EDIT.value, state={"values": [1]}),
        submit("edit with state a string", ok, texts.CallbackId.EDIT.value, state="x"),
        submit("view without type", bad, texts.CallbackId.REJECT.value, type=...),
        submit("view callback_id a number", bad, texts.CallbackId.REJECT.value, callback_id=7),
        Case("view missing", form({"type": "view_submission", "user": {"id": ALICE}}), unhandled),
        Case("view a string", form({"type": "view_submission", "view": "x"}), bad),
        Case("payload not JSON", urlencode({"payload": "not json"}).encode(), bad),
        Case("payload empty", b"payload=", bad),
        Case("payload a list", form([1, 2]), bad),
        Case("payload a string", form("block_actions"), bad),
        Case("payload null", form(None), bad),
        Case("body broken JSON", b"{not json", bad),
        Case(
            "JSON of unknown type",
            unknown,
            unhandled,
            signing.sign_request(SECRET, unknown, content_type=JSON),
        ),
        Case("event not an object", b'{"type":"event_callback","event":"type"}', bad),
        Case("body empty", b"", unhandled),
        Case("body not UTF-8", b"payload=\xff\xfe", bad),
        Case("command without user or channel", command, ok),
        Case("another command", b"command=%2Fdeploy&text=prod", unhandled),
        Case("bad signature", stamped, frozenset({401}), signing.sign_request("not-the-secret", stamped)),
        Case("stale timestamp", stamped, frozenset({401}), signing.sign_request(SECRET, stamped, int(stale))),
        Case(
            "timestamp not a number",
            stamped,
            frozenset({401}),
            {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
        ),
        Case("no signature", stamped, frozenset({401}), {"Content-Type": signing.FORM}),
        Case(
            "signature of another body", stamped, frozenset({401}), signing.sign_request(SECRET, b"text=help")
        ),
        Case("body of 2 MB", huge, frozenset({413}), signing.sign_request(SECRET, huge)),
    ]


def check_told(fz: Fuzzed, cases: list[Case]) -> list[str]:
    """What is wrong with the answers the cases' people got (after waiting for the lazy listeners)."""
    expecting = [c for c in cases if c.told is not None and c.response_path is not None]
    deadline = time.monotonic() + ANSWER_WAIT
    while True:
        answered = answers_by_target(fz.env)
        if all(c.response_path in answered for c in expecting) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    problems = []
    for case in expecting:
        calls = answered.get(str(case.response_path), [])
        shown = [str(c.args.get("text") or "") for c in calls]
        if not calls:
            problems.append(f"{case.name}: nobody was told anything")
        elif any(not text.strip() or TRACEBACK in text for text in shown):
            problems.append(f"{case.name}: told {shown!r}")
        elif case.told not in (None, SOME) and not any(str(case.told) in text for text in shown):
            problems.append(f"{case.name}: told {shown!r}, expected {case.told!r}")
    return problems


def test_malformed_requests_are_answered_4xx_or_told_and_never_act(fuzzed: Fuzzed, card: Card) -> None:
    """Clicks and modal submissions with missing or garbage fields, unknown action ids, values that are
    not numbers, proposals that do not exist, payloads that are not JSON or not objects, bodies empty,
    not UTF-8 or 2 MB, bad signatures and stale or unreadable timestamps: each is answered 200 or the
    4xx named for it (401 for anything unverifiable) with a body saying why, never 5xx; whoever
    clicked is told something readable; PD gets no write and the card's proposal stays pending."""
    fz = fuzzed
    cases = malformed_cases(card)
    sent: list[tuple[Case, int, str]] = []
    for case in cases:
        headers = case.headers if case.headers is not None else signing.sign_request(SECRET, case.body)
        status, body = fz.call(post_raw(fz.env, case.body, headers))
        sent.append((case, status, body))
    wrong = [
        f"{case.name}: {status} {body[:200]!r} (expected {sorted(case.statuses)})"
        for case, status, body in sent
        if status not in case.statuses
    ]
    assert not wrong, "\n".join(wrong)
    unexplained = [
        f"{case.name}: {status} {body[:200]!r}"
        for case, status, body in sent
        if status >= 400 and (not body.strip() or TRACEBACK in body)
    ]
    assert not unexplained, "\n".join(unexplained)
    problems = check_told(fz, cases)
    assert not problems, "\n".join(problems)
    fz.call(fz.env.quiesce())
    no_pd_write(fz.env)
    assert fz.call(fz.env.bot.operations.get(card.proposal_id)).state is ProposalState.PENDING


UNREADABLE_VALUES = ["abc", "", "9" * 5000, f"{NO_PROPOSAL}:x"]


def test_a_modal_whose_metadata_the_bot_cannot_read_says_so_in_the_modal(fuzzed: Fuzzed, card: Card) -> None:
    """A Reject submission with metadata the bot never wrote: the ack keeps the modal open with the
    unreadable-card sentence under its input; nothing is decided."""
    typed = {texts.INPUT_ACTION: {"type": "plain_text_input", "value": "x"}}
    payload = card.submission(
        texts.CallbackId.REJECT.value,
        private_metadata="{no",
        state={"values": {texts.BlockId.REASON.value: typed}},
    )
    body = form(payload)
    status, answer = fuzzed.call(post_raw(fuzzed.env, body, signing.sign_request(SECRET, body)))
    assert status == 200
    ack = json.loads(answer)
    assert ack == {
        "response_action": "errors",
        "errors": {texts.BlockId.REASON.value: texts.CARD_UNREADABLE},
    }


@pytest.mark.parametrize("action_id", [APPROVE, REJECT, EDIT, PAGE])
def test_a_button_value_the_bot_cannot_read_is_told_as_an_unreadable_card(
    fuzzed: Fuzzed, card: Card, action_id: str
) -> None:
    """A click whose value is not one the bot wrote (not a number, empty, 5000 digits, a revision that is
    not a number) tells the person the card cannot be read any more, not that the bot failed."""
    cases = []
    for value in UNREADABLE_VALUES:
        payload, path = card.click(action_id, value=value)
        cases.append(
            Case(
                f"{action_id} {value[:20]!r}",
                form(payload),
                frozenset({200}),
                told=texts.CARD_UNREADABLE,
                response_path=path,
            )
        )
    for case in cases:
        status, _body = fuzzed.call(post_raw(fuzzed.env, case.body, signing.sign_request(SECRET, case.body)))
        assert status == 200, case.name
    problems = check_told(fuzzed, cases)
    assert not problems, "\n".join(problems)


# --- mutated payloads -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes), itself included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found.extend(paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(paths(inner, (*prefix, index)))
    return found


def mutate(payload: Any, path: tuple[Any, ...], new: Any) -> Any:
    """``payload`` with the value at ``path`` replaced by ``new`` (removed when ``new`` is ``...``)."""
    if not path:
        return None if new is ... else new
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    if new is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return payload


MUTATED_EXAMPLES = 600


def test_mutated_interaction_payloads_never_fail_or_act(fuzzed: Fuzzed, card: Card) -> None:
    """Real click and submission payloads (Approve, Reject, Edit, Prev/Next on ALICE's card; Reject and
    Edit modals) with one value anywhere replaced by arbitrary JSON or removed, signed: never a 5xx,
    PD gets no write, and whatever the person is told has text and no traceback."""
    fz = fuzzed
    told: list[Case] = []
    bases = st.sampled_from(
        [APPROVE, REJECT, EDIT, PAGE, texts.CallbackId.REJECT.value, texts.CallbackId.EDIT.value]
    )

    @settings(
        max_examples=MUTATED_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(base=bases, data=st.data())
    def one_payload(base: str, data: st.DataObject) -> None:
        path_of_answer = None
        if base.endswith("_modal"):
            payload: Any = card.submission(base)
        else:
            payload, path_of_answer = card.click(base)
        where = data.draw(st.sampled_from(paths(payload)), label="path")
        new = data.draw(st.one_of(st.just(...), JSON_VALUES), label="new value")
        payload = mutate(payload, where, new)
        body = form(payload)
        status, answer = fz.call(post_raw(fz.env, body, signing.sign_request(SECRET, body)))
        assert status < 500, (status, answer[:300])
        assert status in (200, 400, 404), (status, answer[:300])
        if status == 200 and path_of_answer is not None:
            told.append(Case(str(where), body, frozenset({200}), told=SOME, response_path=path_of_answer))
        no_pd_write(fz.env)

    one_payload()
    fz.call(fz.env.quiesce())
    # A payload whose response URL was mutated away cannot be answered there: those are skipped.
    answered = answers_by_target(fz.env)
    problems = check_told(fz, [c for c in told if c.response_path in answered])
    assert not problems, "\n".join(problems)
    no_pd_write(fz.env)
    assert fz.call(fz.env.bot.operations.get(card.proposal_id)).state is ProposalState.PENDING
