"""How every listener is split: a pure ack function, and the slow work in a lazy listener.

The app runs with ``process_before_response=True``: Bolt answers Slack as soon as the ack function
returns (no 10 ms polling), then starts the lazy listeners. So an ack function must be pure and
cannot raise — an exception there is a 500, which Slack shows as a failure. Ours only ask the
``WorkLimiter`` for a place and ack; a modal's ack also runs the pure validation whose errors must
travel in the ack (``response_action: errors``), and one bounded read of the bot's database for a
stale modal (``bot.listeners.views``; docs/identity-and-edits.md).

Bolt's lazy runner only logs what a lazy listener raises, so ``run_lazy`` catches it and sends it down
the one error path (``bot.listeners.errors.report_error``) to the person who typed or clicked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import texts
from bot.listeners.errors import report_error
from bot.notify_failures import SLACK_FAILURES
from bot.render.notices import note
from bot.services import Services
from bot.work import Outcome

logger = logging.getLogger(__name__)

# Bolt's context key for the ticket the ack function was given; a plain int survives the deep copy
# Bolt makes of the request for its lazy listeners.
WORK_TICKET = "tikv_chatops_work_ticket"

# A modal must be opened within 3 s of the click (the trigger id expires); a job that cannot start
# by then tells the person to click again instead of failing on an expired trigger.
TRIGGER_START_WITHIN = 2.0

BusyNotice = Callable[[], Awaitable[None]]


def admit(services: Services, context: AsyncBoltContext, kind: str) -> bool:
    """Reserve a place for the lazy work of this request; False (and counted) when the bot is busy."""
    ticket = services.work.admit()
    if ticket is None:
        services.metrics.busy.labels(kind).inc()
        return False
    context[WORK_TICKET] = ticket
    return True


async def ack_command(ack: AsyncAck, services: Services, context: AsyncBoltContext) -> None:
    """A slash command's ack: empty, or "busy" shown to the person at once."""
    if admit(services, context, "command"):
        await ack()
    else:
        await ack(response_type="ephemeral", text=texts.BUSY)


async def ack_click(ack: AsyncAck, services: Services, context: AsyncBoltContext) -> None:
    """A button's ack is always empty (Slack ignores a body); a refused click is told by its lazy listener."""
    admit(services, context, "click")
    await ack()


async def run_lazy(
    services: Services,
    context: AsyncBoltContext,
    body: dict[str, Any],
    respond: AsyncRespond | None,
    client: AsyncWebClient | None,
    job: Callable[[], Awaitable[None]],
    *,
    busy: BusyNotice | None = None,
    start_within: float | None = None,
) -> None:
    """Run ``job`` through the work limiter with the ack function's ticket; errors go to the person.

    ``busy`` tells the person when the job was refused or could not start in time. A command's ack
    has already said "busy" when it got no ticket, so commands pass None; but a job whose ticket the
    ack did get and that still did not run (the ticket lapsed, or the bot is shutting down) is told
    through the response URL all the same.
    """
    ticket = context.get(WORK_TICKET)
    try:
        outcome = await services.work.run(ticket, job, start_within=start_within)
        if outcome is Outcome.DONE:
            return
        if busy is None and ticket is not None and respond is not None:
            busy = busy_by_respond(respond)
        if busy is not None:
            if outcome is Outcome.NOT_ADMITTED:
                await services.work.after_acks()  # telling is work too; the acks of a burst go first
            await busy()
    except Exception as exc:
        await report_error(exc, body, respond, client)


def busy_by_respond(respond: AsyncRespond) -> BusyNotice:
    """Tell the clicking person, through the click's response URL, that the bot is busy."""

    async def tell() -> None:
        try:
            await respond(response_type="ephemeral", replace_original=False, **note(texts.BUSY).payload())
        except SLACK_FAILURES:
            logger.warning("could not tell a clicking user the bot is busy", exc_info=True)

    return tell
