"""Long answers (audit rows, pending proposals, the status of a big cluster, region JSON) as pages.

A ``Listing`` is a title, a few lines shown on every page, and rows. ``listing_page`` renders one page
of rows with Prev/Next buttons whose value carries the command that produced it and the page to show;
a click runs the same read again and rewrites the message in place. No page can exceed a message's
limits: rows are clipped, and a page holds at most ``ROWS_PER_PAGE`` rows (``CODE_ROWS_PER_PAGE`` short
preformatted ones).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot import texts
from bot.render.kit import BUTTON_VALUE, Message, clip, context, header, section, sections_of_lines

ROWS_PER_PAGE = 20
ROW_CHARS = 400
# Preformatted rows (JSON lines) are short: more of them fit a page within the same budget.
CODE_ROWS_PER_PAGE = 60
CODE_ROW_CHARS = 150


@dataclass(frozen=True, slots=True)
class Listing:
    """Rows to show page by page; ``code`` shows them preformatted (JSON, tables)."""

    title: str
    rows: tuple[str, ...]
    intro: tuple[str, ...] = ()
    empty: str = texts.NOTHING_TO_SHOW
    code: bool = False
    footer: str = ""
    extra: tuple[Block, ...] = field(default=())  # blocks after the intro on the first page only
    code_header: str = ""  # a table's column names, atop the preformatted rows of every page


@dataclass(frozen=True, slots=True)
class PageRef:
    """What a Prev/Next button carries: the command text to run again and the page to show."""

    command: str
    page: int

    def encode(self) -> str:
        return json.dumps({"c": self.command, "p": self.page}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> PageRef:
        """Raises ``ValueError`` when ``value`` is not one of ours."""
        data = json.loads(value)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("c"), str)
            or not isinstance(data.get("p"), int)
        ):
            raise ValueError("not a page reference")
        return cls(command=data["c"], page=data["p"])


def _per_page(listing: Listing) -> int:
    return CODE_ROWS_PER_PAGE if listing.code else ROWS_PER_PAGE


def page_count(listing: Listing) -> int:
    return max(1, -(-len(listing.rows) // _per_page(listing)))


def _nav(command: str, page: int, pages: int) -> ActionsBlock | None:
    buttons: list[ButtonElement] = []
    for label, target in ((texts.PREV_LABEL, page - 1), (texts.NEXT_LABEL, page + 1)):
        if not 1 <= target <= pages:
            continue
        value = PageRef(command, target).encode()
        if len(value) > BUTTON_VALUE:
            return None  # a command too long to carry; the first page is still shown
        # action_ids must differ within a block; the listener matches the common prefix.
        buttons.append(ButtonElement(text=label, action_id=f"{texts.ActionId.PAGE}:{target}", value=value))
    if not buttons:
        return None
    return ActionsBlock(block_id=f"page:{page}", elements=buttons)


def listing_page(listing: Listing, *, page: int = 1, command: str = "") -> Message:
    """Page ``page`` (1-based, clamped) of ``listing`` as one message."""
    pages = page_count(listing)
    page = min(max(page, 1), pages)
    per_page = _per_page(listing)
    start = (page - 1) * per_page
    width = CODE_ROW_CHARS if listing.code else ROW_CHARS
    rows = [clip(r, width) for r in listing.rows[start : start + per_page]]
    blocks: list[Block] = [header(listing.title)]
    if listing.intro:
        blocks.extend(sections_of_lines(listing.intro))
    if page == 1:
        blocks.extend(listing.extra)
    if rows:
        if listing.code and listing.code_header:
            rows.insert(0, clip(listing.code_header, width))
        blocks.extend(sections_of_lines(rows, as_code=listing.code))
    else:
        blocks.append(section(listing.empty))
    count = len(listing.rows)
    where = texts.PAGE_FOOTER.format(page=page, pages=pages, rows=count, s="s" * (count != 1))
    blocks.append(context(f"{where} · {listing.footer}" if listing.footer else where))
    nav = _nav(command, page, pages) if command else None
    if nav is not None:
        blocks.append(nav)
    summary = listing.title if rows else f"{listing.title}: {listing.empty}"
    return Message(text=summary, blocks=tuple(blocks))
