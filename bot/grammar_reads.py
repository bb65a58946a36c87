"""The pd-ctl-like reads of ``/tikv``: what people type to look before they act.

    /tikv config show [schedule|replication|label-property|all]
    /tikv operator show [region R] | operator history
    /tikv scheduler show | scheduler config NAME
    /tikv hot read|write|store
    /tikv region check KIND | region key [--format=hex|raw] KEY | region sibling R
    /tikv region top read|write|size [N]
    /tikv store limit | labels | members

``parse_read`` is pure, like ``bot.grammar.parse`` (which hands these words over to it), and raises
``GrammarError`` with the usage of the read that was meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import texts
from bot.errors import GrammarError

CONFIG_SECTIONS = ("schedule", "replication", "label-property", "all")
REGION_CHECKS = (
    "down-peer",
    "pending-peer",
    "miss-peer",
    "extra-peer",
    "offline-peer",
    "empty-region",
    "oversized-region",
    "learner-peer",
)
TOP_KINDS = ("read", "write", "size")
HOT_KINDS = ("read", "write", "store")
DEFAULT_TOP = 10
MAX_TOP = 100

# Words after `region` / `store` that name a read rather than an id.
REGION_SUBCOMMANDS = frozenset({"check", "key", "sibling", "siblings", "top"})
STORE_SUBCOMMANDS = frozenset({"limit", "limits"})
HEADS = frozenset({"config", "operator", "operators", "scheduler", "schedulers", "hot", "labels", "members"})

_ID = re.compile(r"^#?([0-9]{1,18})$")


@dataclass(frozen=True, slots=True)
class PdRead:
    """One pd-ctl-like read: ``kind`` names it (``config show``, ``region check``…), ``arg`` and
    ``number`` carry its argument."""

    cluster: str
    kind: str
    arg: str = ""
    number: int | None = None
    hex_key: bool = False


def parse_read(cluster: str, head: str, rest: list[str]) -> PdRead:
    """The read ``head rest…`` names; raises ``GrammarError``."""
    words = [w.lower() for w in rest]
    if head == "config":
        return _config(cluster, words)
    if head in ("operator", "operators"):
        return _operator(cluster, words)
    if head in ("scheduler", "schedulers"):
        return _scheduler(cluster, rest)
    if head == "hot":
        if len(words) != 1 or words[0] not in HOT_KINDS:
            raise GrammarError(
                texts.READ_CHOOSE.format(name="hot", choices="read, write or store"), usage=_u("hot")
            )
        return PdRead(cluster, "hot", words[0])
    if head == "region":
        return _region(cluster, rest)
    if head == "store":
        _nothing_after(words[1:], "store limit")
        return PdRead(cluster, "store limit")
    if head in ("labels", "members"):
        _nothing_after(words, head)
        return PdRead(cluster, head)
    raise GrammarError(texts.NO_SUCH_ACTION.format(word=head), usage=texts.USAGE["any"])


def _u(name: str) -> str:
    return texts.READ_USAGE[name]


def _nothing_after(words: list[str], name: str) -> None:
    if words:
        raise GrammarError(texts.NO_ARGUMENTS.format(name=name, got=" ".join(words)), usage=_u(name))


def _id(word: str, what: str, name: str) -> int:
    match = _ID.match(word)
    if match is None:
        raise GrammarError(texts.NOT_A_NUMBER.format(what=what, word=word), usage=_u(name))
    return int(match[1])


def _config(cluster: str, words: list[str]) -> PdRead:
    if not words or words[0] != "show":
        raise GrammarError(texts.READ_ONLY_SHOW.format(name="config"), usage=_u("config show"))
    if len(words) > 2 or (len(words) == 2 and words[1] not in CONFIG_SECTIONS):
        raise GrammarError(
            texts.READ_CHOOSE.format(name="config show", choices=", ".join(CONFIG_SECTIONS)),
            usage=_u("config show"),
        )
    return PdRead(cluster, "config show", words[1] if len(words) == 2 else "")


def _operator(cluster: str, words: list[str]) -> PdRead:
    if words == ["history"]:
        return PdRead(cluster, "operator history")
    if words == ["show"]:
        return PdRead(cluster, "operator show")
    if len(words) == 3 and words[:2] == ["show", "region"]:
        return PdRead(cluster, "operator show", number=_id(words[2], "The region id", "operator show"))
    raise GrammarError(texts.READ_OPERATOR, usage=_u("operator show"))


def _scheduler(cluster: str, rest: list[str]) -> PdRead:
    words = [w.lower() for w in rest]
    if words == ["show"]:
        return PdRead(cluster, "scheduler show")
    if len(words) == 2 and words[0] == "config":
        return PdRead(cluster, "scheduler config", rest[1])
    raise GrammarError(texts.READ_SCHEDULER, usage=_u("scheduler config"))


def _region(cluster: str, rest: list[str]) -> PdRead:
    sub, args = rest[0].lower(), rest[1:]
    if sub == "check":
        if len(args) != 1 or args[0].lower() not in REGION_CHECKS:
            raise GrammarError(
                texts.READ_CHOOSE.format(name="region check", choices=", ".join(REGION_CHECKS)),
                usage=_u("region check"),
            )
        return PdRead(cluster, "region check", args[0].lower())
    if sub in ("sibling", "siblings"):
        if len(args) != 1:
            raise GrammarError(
                texts.ONE_ARGUMENT.format(name="region sibling", what=texts.A_REGION_ID),
                usage=_u("region sibling"),
            )
        return PdRead(cluster, "region sibling", number=_id(args[0], "The region id", "region sibling"))
    if sub == "key":
        return _region_key(cluster, args)
    # top
    if not args or args[0].lower() not in TOP_KINDS or len(args) > 2:
        raise GrammarError(
            texts.READ_CHOOSE.format(name="region top", choices="read, write or size"), usage=_u("region top")
        )
    limit = DEFAULT_TOP
    if len(args) == 2:
        limit = _id(args[1], "The number of regions", "region top")
        if not 1 <= limit <= MAX_TOP:
            raise GrammarError(texts.READ_TOP_RANGE.format(most=MAX_TOP, limit=limit), usage=_u("region top"))
    return PdRead(cluster, "region top", args[0].lower(), number=limit)


def _region_key(cluster: str, args: list[str]) -> PdRead:
    fmt = ""
    kept: list[str] = []
    for word in args:
        if word.lower().startswith("--format="):
            fmt = word.split("=", 1)[1].lower()
            if fmt not in ("hex", "raw"):
                raise GrammarError(texts.READ_KEY_FORMAT.format(word=word), usage=_u("region key"))
        else:
            kept.append(word)
    if len(kept) != 1:
        raise GrammarError(texts.READ_ONE_KEY, usage=_u("region key"))
    key = kept[0]
    if fmt == "hex" and not is_hex(key):
        raise GrammarError(texts.READ_NOT_HEX.format(key=key), usage=_u("region key"))
    # Without --format a key that reads as hex is hex (PD prints keys in hex), anything else is raw.
    hex_key = fmt == "hex" or (fmt == "" and is_hex(key))
    return PdRead(cluster, "region key", key.upper() if hex_key else key, hex_key=hex_key)


def is_hex(word: str) -> bool:
    return len(word) % 2 == 0 and bool(re.fullmatch(r"[0-9A-Fa-f]+", word))
