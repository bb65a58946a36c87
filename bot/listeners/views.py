"""Modal submissions: Reject (a reason) and Edit (new parameters, a new revision).

Only pure checks run before the ack, because their errors must travel in it
(``response_action: errors`` keyed by the input's block_id): a reason was given; the new parameters
pass the catalog's validation. Everything that reads PD or the store runs after the ack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from actions.catalog import validate_params
from actions.errors import InvalidRequest
from actions.params import InvalidParams
from bot import texts
from bot.listeners.acks import ack_first
from bot.render.modals import ModalContext, edit_errors, edit_params, input_values
from bot.render.notices import note
from bot.services import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Submission:
    """A modal submission read before the ack: what it is about, what was typed, what is wrong."""

    context: ModalContext | None
    values: dict[str, str]
    errors: dict[str, str]


def read_reject(view: dict[str, Any]) -> Submission:
    """Pure: the reason typed, or the inline error asking for one. Never raises."""
    try:
        context = ModalContext.decode(str(view.get("private_metadata") or ""))
        values = input_values(view.get("state") or {})
    except Exception:
        logger.exception("a reject submission could not be read")
        return Submission(None, {}, {})
    reason = values.get(texts.BlockId.REASON.value, "")
    errors = {} if reason else {texts.BlockId.REASON.value: texts.REJECT_REASON_MISSING}
    return Submission(context, {"reason": reason}, errors)


def read_edit(view: dict[str, Any]) -> Submission:
    """Pure: the parameters typed and the catalog's verdict on them, by input block. Never raises."""
    try:
        context = ModalContext.decode(str(view.get("private_metadata") or ""))
        params = edit_params(view.get("state") or {})
        try:
            validate_params(context.action, params)
        except InvalidParams as exc:
            return Submission(context, params, edit_errors(exc.errors, context.action))
        except InvalidRequest as exc:
            return Submission(context, params, edit_errors({exc.field or "": str(exc)}, context.action))
    except Exception:
        logger.exception("an edit submission could not be read")
        return Submission(None, {}, {})
    return Submission(context, params, {})


async def _tell(client: AsyncWebClient, context: ModalContext, user_id: str, text: str) -> None:
    if context.channel is None:
        return
    await client.chat_postEphemeral(channel=context.channel, user=user_id, **note(text).payload())


def register(app: AsyncApp, services: Services) -> None:
    operations = services.operations

    async def reject_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        submission = read_reject(view)
        if submission.errors:
            await ack(response_action="errors", errors=submission.errors)
            return
        await ack_first(ack)
        services.metrics.clicks.labels(texts.CallbackId.REJECT.value).inc()
        if submission.context is None:
            raise ValueError("unreadable reject submission")  # logged and answered by the error handler
        actor = await services.identity.actor(str(body["user"]["id"]))
        context = submission.context
        proposal = await operations.reject(
            context.proposal_id, actor=actor, reason=submission.values["reason"], revision=context.revision
        )
        await _tell(client, context, actor.user_id, texts.REJECTED_ACK.format(id=proposal.id))

    async def edit_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        submission = read_edit(view)
        if submission.errors:
            await ack(response_action="errors", errors=submission.errors)
            return
        await ack_first(ack)
        services.metrics.clicks.labels(texts.CallbackId.EDIT.value).inc()
        if submission.context is None:
            raise ValueError("unreadable edit submission")
        actor = await services.identity.actor(str(body["user"]["id"]))
        context = submission.context
        revised = await operations.edit(context.proposal_id, actor=actor, params=submission.values)
        await _tell(
            client, context, actor.user_id, texts.EDITED_ACK.format(id=revised.id, revision=revised.revision)
        )

    app.view(texts.CallbackId.REJECT.value)(reject_submitted)
    app.view(texts.CallbackId.EDIT.value)(edit_submitted)
