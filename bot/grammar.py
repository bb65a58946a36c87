"""The ``/tikv`` grammar: the text after the command, parsed into one typed ``Command``.

    /tikv [-c CLUSTER] help [ACTION]
    /tikv [-c CLUSTER] status | pending
    /tikv [-c CLUSTER] region R | store S
    /tikv [-c CLUSTER] audit [region R] [store S] [ticket T] [proposal P] [user @U] [since 2h] [N]
    /tikv [-c CLUSTER] [dry-run] ACTION ARGS…      (actions and their arguments: actions.catalog)
    /tikv [-c CLUSTER] undo P

``parse`` is pure: no I/O, no clock. It raises ``bot.errors.GrammarError`` whose message (and usage
line, with an example, when the caller got an action's arguments wrong) is shown to the caller
ephemerally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from actions.catalog import ActionSpec, parse_action, spec_for
from actions.errors import InvalidRequest
from actions.models import ActionType, ParamValue
from bot import texts
from bot.errors import GrammarError
from bot.grammar_reads import HEADS as READ_HEADS
from bot.grammar_reads import REGION_SUBCOMMANDS, STORE_SUBCOMMANDS, parse_read
from bot.grammar_reads import PdRead as PdRead

DEFAULT_AUDIT_ROWS = 20
MAX_AUDIT_ROWS = 1000

# [0-9], not \d: \d also matches other scripts' digits (Arabic-Indic, fullwidth…), which int() reads.
_ID = re.compile(r"^#?([0-9]{1,18})$")
_PROPOSAL_ID = re.compile(r"^(?:#|p)?([0-9]{1,18})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Help:
    cluster: str
    action: ActionType | None = None  # help for one action: its usage, parameters and example


@dataclass(frozen=True, slots=True)
class Status:
    cluster: str


@dataclass(frozen=True, slots=True)
class ShowRegion:
    cluster: str
    region_id: int
    raw_json: bool = False  # --json: PD's JSON as a file instead of the summary


@dataclass(frozen=True, slots=True)
class ShowStore:
    cluster: str
    store_id: int
    raw_json: bool = False


@dataclass(frozen=True, slots=True)
class Pending:
    cluster: str


@dataclass(frozen=True, slots=True)
class Audit:
    cluster: str
    limit: int = DEFAULT_AUDIT_ROWS
    region_id: int | None = None
    store_id: int | None = None
    ticket_id: int | None = None
    proposal_id: int | None = None
    user: str | None = None
    since_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class RunAction:
    """``[dry-run] ACTION ARGS…``: propose the action, or only dry-run it."""

    cluster: str
    action: ActionType
    params: dict[str, ParamValue]
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Undo:
    cluster: str
    proposal_id: int


Command = Help | Status | ShowRegion | ShowStore | Pending | Audit | RunAction | Undo | PdRead

USAGE = texts.USAGE

_AUDIT_FILTERS = ("region", "store", "ticket", "proposal")
_AUDIT_MORE = ("user", "since")


def parse(text: str, *, default_cluster: str = "default") -> Command:
    """The command in ``text`` (everything after ``/tikv``); raises ``GrammarError``."""
    words, cluster = _take_cluster(text.split(), default_cluster)
    if not words:
        return Help(cluster)
    head, rest = words[0].lower(), words[1:]
    if head in ("help", "-h", "--help", "?"):
        return _help(cluster, rest)
    if head == "status":
        _no_more(rest, "status")
        return Status(cluster)
    if head == "pending":
        _no_more(rest, "pending")
        return Pending(cluster)
    if head in READ_HEADS or (
        rest
        and (
            (head == "region" and rest[0].lower() in REGION_SUBCOMMANDS)
            or (head == "store" and rest[0].lower() in STORE_SUBCOMMANDS)
        )
    ):
        return parse_read(cluster, head, rest)
    if head == "region":
        kept, raw_json = _take_json(rest)
        return ShowRegion(cluster, _one_id(kept, "region", texts.A_REGION_ID), raw_json=raw_json)
    if head == "store":
        kept, raw_json = _take_json(rest)
        return ShowStore(cluster, _one_id(kept, "store", texts.A_STORE_ID), raw_json=raw_json)
    if head == "audit":
        return _audit(cluster, rest)
    if head == "undo":
        return Undo(cluster, _proposal_id(rest))
    if head in ("dry-run", "dryrun", "--dry-run"):
        if not rest:
            raise GrammarError(texts.NO_ACTION_TO_DRY_RUN, usage=USAGE["dry-run"])
        return _action(cluster, rest, dry_run=True)
    return _action(cluster, words, dry_run=False)


def _take_cluster(words: list[str], default: str) -> tuple[list[str], str]:
    """Remove ``-c NAME`` / ``--cluster NAME`` / ``--cluster=NAME`` from anywhere in ``words``."""
    cluster = default
    kept: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-c", "--cluster"):
            if i + 1 >= len(words):
                raise GrammarError(texts.NEEDS_CLUSTER.format(flag=word), usage=USAGE["cluster"])
            cluster = words[i + 1]
            i += 2
            continue
        if word.startswith("--cluster="):
            cluster = word.split("=", 1)[1]
            if not cluster:
                raise GrammarError(texts.NEEDS_CLUSTER.format(flag="--cluster="), usage=USAGE["cluster"])
        else:
            kept.append(word)
        i += 1
    return kept, cluster


def _take_json(rest: list[str]) -> tuple[list[str], bool]:
    kept = [w for w in rest if w.lower() != texts.JSON_FLAG]
    return kept, len(kept) != len(rest)


def _no_more(rest: list[str], name: str) -> None:
    if rest:
        raise GrammarError(texts.NO_ARGUMENTS.format(name=name, got=" ".join(rest)), usage=USAGE[name])


def _number(word: str, what: str, usage: str) -> int:
    match = _ID.match(word)
    if match is None:
        raise GrammarError(texts.NOT_A_NUMBER.format(what=what, word=word), usage=usage)
    return int(match[1])


def _one_id(rest: list[str], name: str, what: str) -> int:
    if len(rest) != 1:
        raise GrammarError(texts.ONE_ARGUMENT.format(name=name, what=what), usage=USAGE[name])
    return _number(rest[0], what.capitalize(), USAGE[name])


def _proposal_id(rest: list[str]) -> int:
    if len(rest) != 1:
        raise GrammarError(
            texts.ONE_ARGUMENT.format(name="undo", what=texts.THE_PROPOSAL_ID), usage=USAGE["undo"]
        )
    match = _PROPOSAL_ID.match(rest[0])
    if match is None:
        raise GrammarError(texts.NOT_A_PROPOSAL_ID.format(word=rest[0]), usage=USAGE["undo"])
    return int(match[1])


def _help(cluster: str, rest: list[str]) -> Help:
    if not rest:
        return Help(cluster)
    if len(rest) > 1:
        raise GrammarError(texts.HELP_ONE_ACTION, usage=USAGE["help"])
    spec = _spec_or_none(rest[0])
    if spec is None:
        raise GrammarError(texts.NO_SUCH_ACTION.format(word=rest[0]), usage=USAGE["help"])
    return Help(cluster, spec.action)


def _audit(cluster: str, rest: list[str]) -> Audit:
    """Filters in any order (``region R``, ``store S``, ``ticket T``, ``proposal P``, ``user @U``,
    ``since 2h``), each at most once, and optionally a row count last."""
    usage = USAGE["audit"]
    ids: dict[str, int] = {}
    user: str | None = None
    since: int | None = None
    limit = DEFAULT_AUDIT_ROWS
    at = 0
    while at < len(rest):
        kind = rest[at].lower()
        if kind not in _AUDIT_FILTERS + _AUDIT_MORE:
            if at == len(rest) - 1 and _ID.match(rest[at]) and kind.isdigit():
                limit = _limit(rest[at], usage)
                break
            raise GrammarError(texts.AUDIT_FILTER.format(word=rest[at]), usage=usage)
        if at + 1 >= len(rest):
            message = texts.AUDIT_NEEDS_ID if kind in _AUDIT_FILTERS else texts.AUDIT_NEEDS_VALUE
            raise GrammarError(message.format(kind=kind), usage=usage)
        word = rest[at + 1]
        if kind == "user":
            user = _user_id(word, usage)
        elif kind == "since":
            since = _duration(word, usage)
        else:
            ids[kind] = _number(word, texts.AUDIT_ID.format(kind=kind), usage)
        at += 2
    return Audit(
        cluster,
        limit=limit,
        region_id=ids.get("region"),
        store_id=ids.get("store"),
        ticket_id=ids.get("ticket"),
        proposal_id=ids.get("proposal"),
        user=user,
        since_seconds=since,
    )


_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
_DURATION = re.compile(r"^(\d{1,6})([mhdw])$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _user_id(word: str, usage: str) -> str:
    match = _USER.match(word)
    if match is None:
        raise GrammarError(texts.AUDIT_USER.format(word=word), usage=usage)
    return match[1] or match[2]


def _duration(word: str, usage: str) -> int:
    match = _DURATION.match(word)
    if match is None or int(match[1]) == 0:
        raise GrammarError(texts.AUDIT_SINCE.format(word=word), usage=usage)
    return int(match[1]) * _UNIT_SECONDS[match[2].lower()]


def _limit(word: str, usage: str) -> int:
    limit = _number(word, texts.AUDIT_ROWS, usage)
    if not 1 <= limit <= MAX_AUDIT_ROWS:
        raise GrammarError(texts.AUDIT_RANGE.format(most=MAX_AUDIT_ROWS, limit=limit), usage=usage)
    return limit


def _action(cluster: str, words: list[str], *, dry_run: bool) -> RunAction:
    try:
        action, params = parse_action(words)
    except InvalidRequest as exc:
        spec = _spec_or_none(words[0])
        if spec is not None:
            usage = action_usage(spec)
        elif exc.usage is not None:
            usage = texts.PREFIXED_USAGE.format(usage=exc.usage)
        else:
            usage = USAGE["any"]
        raise GrammarError(str(exc), usage=usage) from None
    return RunAction(cluster, action, dict(params), dry_run=dry_run)


def _spec_or_none(word: str) -> ActionSpec | None:
    try:
        return spec_for(word)
    except InvalidRequest:
        return None


def action_usage(spec: ActionSpec) -> str:
    """``/tikv transfer-leader REGION STORE  — e.g. /tikv transfer-leader 12 3``."""
    return texts.ACTION_USAGE.format(usage=spec.usage(), example=spec.example)
