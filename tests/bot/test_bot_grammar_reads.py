"""The pd-ctl-like reads parse into ``PdRead``; wrong words get the read's own usage."""

from __future__ import annotations

import pytest

from bot import grammar
from bot.errors import GrammarError
from bot.grammar_reads import PdRead


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config show", PdRead("default", "config show")),
        ("config show label-property", PdRead("default", "config show", "label-property")),
        ("operator show", PdRead("default", "operator show")),
        ("operator show region #12", PdRead("default", "operator show", number=12)),
        ("operator history", PdRead("default", "operator history")),
        ("scheduler show", PdRead("default", "scheduler show")),
        ("scheduler config evict-leader", PdRead("default", "scheduler config", "evict-leader")),
        ("hot store", PdRead("default", "hot", "store")),
        ("region check oversized-region", PdRead("default", "region check", "oversized-region")),
        ("region key 7480ff", PdRead("default", "region key", "7480FF", hex_key=True)),
        ("region key --format=raw 7480", PdRead("default", "region key", "7480")),
        ("region key t_1", PdRead("default", "region key", "t_1")),
        ("region sibling 12", PdRead("default", "region sibling", number=12)),
        ("region top size", PdRead("default", "region top", "size", number=10)),
        ("region top write 5", PdRead("default", "region top", "write", number=5)),
        ("store limit", PdRead("default", "store limit")),
        ("-c other labels", PdRead("other", "labels")),
        ("members", PdRead("default", "members")),
    ],
)
def test_reads_parse(text: str, expected: PdRead) -> None:
    assert grammar.parse(text) == expected


def test_region_and_store_still_take_ids_and_json() -> None:
    assert grammar.parse("region 12") == grammar.ShowRegion("default", 12)
    assert grammar.parse("store 3 --json") == grammar.ShowStore("default", 3, raw_json=True)


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("config set x 1", "/tikv config show"),
        ("config show everything", "/tikv config show"),
        ("operator add x", "/tikv operator show"),
        ("scheduler remove x", "/tikv scheduler"),
        ("hot cold", "/tikv hot"),
        ("region check sick-peer", "/tikv region check"),
        ("region key --format=hex xyz", "/tikv region key"),
        ("region key a b", "/tikv region key"),
        ("region sibling x", "/tikv region sibling"),
        ("region top size 1000", "/tikv region top"),
        ("region top heavy", "/tikv region top"),
        ("labels extra", "/tikv labels"),
    ],
)
def test_wrong_reads_answer_with_their_usage(text: str, usage: str) -> None:
    with pytest.raises(GrammarError) as caught:
        grammar.parse(text)
    assert caught.value.usage is not None and caught.value.usage.startswith(usage)
