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
    blocks.append(section(texts.READ_HELP_TITLE))
    blocks.extend(sections_of_lines(inline(usage, 300) for usage in texts.READ_USAGE.values()))
    rows = [
        texts.HELP_ACTION_ROW.format(
            action=CATALOG[e.action].word,
            tier=e.tier.value,
            summary=escape(e.summary),
            usage=inline(f"{texts.COMMAND} {e.usage}", 200),
            example=inline(f"{texts.COMMAND} {e.example}", 200),
        )
        for e in help_entries()
        if may_request(e.action)
    ]
    if rows:
        blocks.append(section(texts.HELP_ACTIONS))
        blocks.extend(sections_of_lines(rows))
    blocks.append(context(texts.HELP_FOOTER))
    return Message(text=texts.HELP_HEADER, blocks=tuple(blocks))


def action_help(action: ActionType) -> Message:
    """One action: what it does, its parameters, its tier, its usage with an example."""
    spec = CATALOG[action]
    blocks: list[Block] = [
        header(f"{texts.COMMAND} {spec.word}"),
        section(texts.HELP_USAGE.format(summary=escape(spec.summary), usage=inline(action_usage(spec), 500))),
    ]
    if spec.params:
        blocks.append(fields([(p.label or p.name, escape(p.help) or p.metavar) for p in spec.params]))
    aliases = texts.HELP_ALIASES.format(aliases=", ".join(spec.words[1:])) if len(spec.words) > 1 else ""
    blocks.append(context(texts.HELP_TIER.format(tier=spec.tier.value) + aliases))
    return Message(text=f"{texts.COMMAND} {spec.usage()}", blocks=tuple(blocks))
