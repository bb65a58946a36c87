"""Modal submissions: Reject (a reason) and Edit (new parameters, a new revision).

The ack function runs only the checks whose errors must travel in the ack (``response_action:
errors`` keyed by the input's block_id): a reason was given; the new parameters pass the catalog's
validation; and — one read of the bot's own database, bounded by ``REVIEW_WITHIN`` — the modal is not
stale (opened on an older revision) and the edit keeps the proposal's subject
(``Operations.review_modal``). Everything that reads PD or Slack runs in the lazy listener, after the
ack (which reads the submission again: reading is pure and cheap), and decides again under the store's
guards, so a change between the ack and the lazy listener is still refused.
An edit's ack also asks PD's checks, within ``EDIT_CHECK_SECONDS``: a failing check stays in the open
modal under its input, with what was typed. When PD is slower the modal closes as before, and the
outcome says the checks ran after it closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from actions.catalog import validate_params
from actions.errors import ActionError, InvalidRequest, PreflightFailed
from actions.models import CheckStatus, PreflightReport
from actions.params import InvalidParams
from bot import texts
from bot.listeners import payload
from bot.listeners.acks import admit, run_lazy
from bot.render.modals import ModalContext, edit_errors, edit_params, input_values
from bot.render.notices import note
from bot.services import Services

logger = logging.getLogger(__name__)

# How long an edit's ack waits for PD's checks (Slack gives the whole ack three seconds).
EDIT_CHECK_SECONDS = 1.5
# How long a modal's ack may spend reading the store before it leaves the decision to the lazy
# listener (Slack waits 3 s for the ack; a busy database must not make the modal fail).
REVIEW_WITHIN = 0.5


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


def first_input_error(view: dict[str, Any], text: str) -> dict[str, str]:
    """Pure: ``text`` under the modal's first input (the modal stays open); {} when it has none."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    first = next(iter(values), None) if isinstance(values, dict) else None
    return {str(first): text} if first is not None else {}


def busy_errors(view: dict[str, Any]) -> dict[str, str]:
    """Pure: "busy" under the modal's first input, so the person can submit again."""
    return first_input_error(view, texts.BUSY)


async def review(services: Services, submission: Submission, *, edit: bool) -> dict[str, str]:
    """The domain's objections to a readable, valid submission, keyed by input block; {} when none
    (or when the store could not answer in time: the lazy listener decides then)."""
    modal = submission.context
    if modal is None or submission.errors:
        return {}
    try:
        async with asyncio.timeout(REVIEW_WITHIN):
            found = await services.operations.review_modal(
                modal.proposal_id, revision=modal.revision, params=submission.values if edit else None
            )
    except Exception:
        logger.warning("reviewing a modal submission failed; the lazy listener decides", exc_info=True)
        return {}
    if edit:
        return edit_errors(found, modal.action)
    return {texts.BlockId.REASON.value: " ".join(found.values())} if found else {}


async def ack_submission(
    ack: AsyncAck, services: Services, context: AsyncBoltContext, submission: Submission, view: dict[str, Any]
) -> None:
    """A submission's ack: inline errors, or — when the bot is busy — "busy" inline, or empty."""
    if submission.context is None:
        # A modal the bot cannot read (metadata not its own): said in the modal, where the person is.
        unreadable = first_input_error(view, texts.CARD_UNREADABLE)
        if unreadable:
            await ack(response_action="errors", errors=unreadable)
        else:
            await ack()
        return
    if submission.errors:
        await ack(response_action="errors", errors=submission.errors)
        return
    if admit(services, context, "submission"):
        await ack()
        return
    errors = busy_errors(view)
    if errors:
        await ack(response_action="errors", errors=errors)
    else:
        await ack()  # nowhere to show it inline; the lazy listener does nothing


def check_errors(
    submission: Submission, report: PreflightReport, before: Mapping[str, object]
) -> dict[str, str]:
    """Pure: the failing checks' sentences under the input that changed (the first one, if several)."""
    failures = [c for c in report.checks if c.status is CheckStatus.FAIL]
    if not failures or not submission.values:
        return {}
    text = " ".join(c.message for c in failures)
    changed = [k for k, v in submission.values.items() if str(before.get(k, "")) != v.strip()]
    name = (changed or list(submission.values))[0]
    return {texts.PARAM_PREFIX + name: texts.EDIT_CHECK_FAILED.format(checks=text)}


async def quick_checks(services: Services, submission: Submission) -> dict[str, str] | None:
    """The inline errors PD's checks give an edit when they answer within ``EDIT_CHECK_SECONDS`` ({} when
    they pass); None when PD is slower or the proposal cannot be edited (the lazy listener tells)."""
    if submission.context is None or submission.errors:
        return None
    operations = services.operations
    try:
        async with asyncio.timeout(EDIT_CHECK_SECONDS):
            proposal = await operations.get(submission.context.proposal_id)
            report = await operations.check_edit(proposal.id, submission.values)
    except (TimeoutError, ActionError):
        return None
    return check_errors(submission, report, proposal.request.params)


async def _tell(client: AsyncWebClient, context: ModalContext, user_id: str, text: str) -> None:
    if context.channel is None:
        return
    await client.chat_postEphemeral(channel=context.channel, user=user_id, **note(text).payload())


def register(app: AsyncApp, services: Services) -> None:
    operations = services.operations

    async def reject_ack(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        submission = read_reject(view)
        objections = await review(services, submission, edit=False)
        if objections:
            submission = Submission(submission.context, submission.values, objections)
        await ack_submission(ack, services, context, submission, view)

    async def reject_submitted(
        body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        async def job() -> None:
            submission = read_reject(view)
            services.metrics.clicks.labels(texts.CallbackId.REJECT.value).inc()
            if submission.context is None:
                return  # the ack said so in the modal (and nothing was admitted to run)
            actor = await services.identity.actor(payload.user_id(body), payload.origin(body))
            modal = submission.context
            proposal = await operations.reject(
                modal.proposal_id, actor=actor, reason=submission.values["reason"], revision=modal.revision
            )
            await _tell(client, modal, actor.user_id, texts.REJECTED_ACK.format(id=proposal.id))

        await run_lazy(services, context, body, None, client, job)

    # Views whose checks PD did not answer in time during the ack: their outcome says so.
    checked_late: set[str] = set()

    async def edit_ack(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        submission = read_edit(view)
        objections = await review(services, submission, edit=True)
        if objections:
            submission = Submission(submission.context, submission.values, objections)
        if submission.context is not None and not submission.errors and not objections:
            errors = await quick_checks(services, submission)
            if errors is None:
                if len(checked_late) > 1000:
                    checked_late.clear()  # views whose lazy listener never ran (the bot was busy)
                checked_late.add(str(view.get("id")))
            elif errors:
                await ack(response_action="errors", errors=errors)
                return
        await ack_submission(ack, services, context, submission, view)

    async def edit_submitted(
        body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        async def job() -> None:
            submission = read_edit(view)
            services.metrics.clicks.labels(texts.CallbackId.EDIT.value).inc()
            if submission.context is None:
                return  # the ack said so in the modal (and nothing was admitted to run)
            actor = await services.identity.actor(payload.user_id(body), payload.origin(body))
            modal = submission.context
            late = str(view.get("id")) in checked_late
            checked_late.discard(str(view.get("id")))
            try:
                revised = await operations.edit(
                    modal.proposal_id, actor=actor, params=submission.values, revision=modal.revision
                )
            except PreflightFailed as exc:
                if not late:
                    raise
                told = texts.EDIT_CHECKED_LATE.format(message=str(exc))
                raise PreflightFailed(told, report=exc.report) from None
            edited = texts.EDITED_ACK.format(id=revised.id, revision=revised.revision)
            await _tell(client, modal, actor.user_id, edited)

        await run_lazy(services, context, body, None, client, job)

    app.view(texts.CallbackId.REJECT.value)(ack=reject_ack, lazy=[reject_submitted])
    app.view(texts.CallbackId.EDIT.value)(ack=edit_ack, lazy=[edit_submitted])
