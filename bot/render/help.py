"""``/tikv help``: the commands, and the actions the caller may run, from the catalog."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.blocks import Block

from actions.catalog import CATALOG, help_entries
from actions.models import ActionType
from bot import texts
from bot.grammar import USAGE, action_usage
from bot.render.kit import Message, context, escape, fields, header, inline, section, sections_of_lines

_READS = ("status", "region", "store", "pending", "audit", "undo", "help")


def help_message(may_request: Callable[[ActionType], bool]) -> Message:
    """Every read command, then every action ``may_request`` allows, with its usage and an example."""
    blocks: list[Block] = [header(texts.HELP_HEADER)]
    blocks.extend(sections_of_lines(f"{inline(USAGE[name], 300)}" for name in _READS))
    rows = [
        f"*{e.action.value}* ({e.tier.value}) — {escape(e.summary)}\n      {inline('/tikv ' + e.usage, 200)}"
        f" e.g. {inline('/tikv ' + e.example, 200)}"
        for e in help_entries()
        if may_request(e.action)
    ]
    if rows:
        blocks.append(
            section("*Actions* — prefix any of them with `dry-run` to check it without proposing it")
        )
        blocks.extend(sections_of_lines(rows))
    blocks.append(context("`-c CLUSTER` picks a cluster · `/tikv help ACTION` explains one action"))
    return Message(text=texts.HELP_HEADER, blocks=tuple(blocks))


def action_help(action: ActionType) -> Message:
    """One action: what it does, its parameters, its tier, its usage with an example."""
    spec = CATALOG[action]
    blocks: list[Block] = [
        header(f"/tikv {spec.word}"),
        section(f"{escape(spec.summary)}\n*Usage:* {inline(action_usage(spec), 500)}"),
        fields([(p.label or p.name, escape(p.help) or p.metavar) for p in spec.params]),
        context(
            f"Tier: {spec.tier.value}"
            + (f" · also typed as {', '.join(spec.words[1:])}" if len(spec.words) > 1 else "")
        ),
    ]
    if not spec.params:
        blocks.pop(2)
    return Message(text=f"/tikv {spec.usage()}", blocks=tuple(blocks))
