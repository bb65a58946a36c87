"""The one error handler: every exception a listener raises ends here.

Refusals (``ActionError``: its messages are written for people; ``GrammarError``; ``IdentityRefused``)
go to the person who typed or clicked, ephemerally, and are logged at info. The bot's database being
unusable (``StorageUnavailable``) is an outage the domain expects: logged as a warning, and the person is
told in a fixed sentence that nothing was recorded and to try again; when it failed only after the first
step committed (``PartlyRecorded``), the fixed sentence says what is recorded and what happens next.
Anything else is a bug or an outage: it is logged with its traceback and the person gets one fixed
sentence — never a stack trace, never ``str()`` of an unexpected exception. Telling the person never
raises.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from actions.errors import ActionError, PartlyRecorded, Recorded, StorageUnavailable
from bot import texts
from bot.errors import GrammarError, IdentityRefused, UnreadableRequest
from bot.notify_failures import SLACK_FAILURES
from bot.render.kit import Message
from bot.render.notices import note, refusal_for, unexpected, usage

logger = logging.getLogger("bot.errors")

REFUSALS = (ActionError, GrammarError, IdentityRefused, UnreadableRequest)
UNAVAILABLE = (StorageUnavailable, PartlyRecorded)

PARTLY_RECORDED = {
    Recorded.APPROVAL: texts.STORAGE_APPROVAL_RECORDED,
    Recorded.APPROVAL_RUN_WAITS: texts.STORAGE_RUN_WAITS,
    Recorded.PROPOSAL_CARD_UNNOTED: texts.STORAGE_CARD_UNNOTED,
}


def answer_for(error: BaseException) -> Message:
    """What the person sees for ``error``."""
    if isinstance(error, PartlyRecorded):
        return note(PARTLY_RECORDED[error.recorded].format(id=error.proposal_id))
    if isinstance(error, StorageUnavailable):
        return note(texts.STORAGE_UNAVAILABLE)
    if isinstance(error, GrammarError):
        return usage(str(error), error.usage)
    if isinstance(error, REFUSALS):
        return refusal_for(error)
    return unexpected()


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and user to answer in, from a command, a click or a modal's metadata."""
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    if channel is None and isinstance(body.get("view"), dict):
        try:
            channel = json.loads(body["view"].get("private_metadata") or "{}").get("c")
        except (ValueError, AttributeError):
            channel = None
    return channel, user


async def report_error(
    error: BaseException,
    body: dict[str, Any] | None,
    respond: AsyncRespond | None,
    client: AsyncWebClient | None,
) -> None:
    """Log ``error`` and tell the person who caused the request, as well as Slack allows."""
    if isinstance(error, UNAVAILABLE):
        logger.warning("the bot's database could not be used: %s", error)
    elif isinstance(error, REFUSALS):
        logger.info("refused: %s", error)
    else:
        logger.exception("a listener failed", exc_info=error)
    message = answer_for(error)
    payload = message.payload()
    try:
        if respond is not None and body is not None and body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=False, **payload)
            return
        channel, user = _where(body or {})
        if client is not None and channel and user:
            await client.chat_postEphemeral(channel=channel, user=user, **payload)
    except SLACK_FAILURES:
        logger.warning("could not tell the user about an error", exc_info=True)


def register(app: AsyncApp) -> None:
    async def on_error(
        error: Exception,
        body: dict[str, Any] | None,
        respond: AsyncRespond | None,
        client: AsyncWebClient | None,
    ) -> None:
        await report_error(error, body, respond, client)

    app.error(on_error)
