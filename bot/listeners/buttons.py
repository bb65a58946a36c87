"""Clicks on a proposal card (Approve, Reject, Edit) and on a listing's Prev/Next.

Every click is acked at once by a pure ack function; the work runs in a lazy listener. Approve
decides (``Operations.approve``; the card and its thread are rewritten by the notifier) and tells the
approver what their click did. Reject and Edit open a modal straight after the ack, while the click's
trigger id is still fresh; the decision comes with the submission.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from actions.models import ProposalState
from bot import grammar, texts
from bot.errors import GrammarError
from bot.listeners import payload
from bot.listeners.acks import TRIGGER_START_WITHIN, ack_click, busy_by_respond, run_lazy
from bot.listeners.commands import read_listing
from bot.listeners.home import is_home_click, publish_home
from bot.render.kit import validated_view
from bot.render.listing import listing_page
from bot.render.modals import ModalContext, edit_modal, reject_modal
from bot.render.notices import note
from bot.render.proposal import outcome_line
from bot.services import Services

PAGE_ACTION = re.compile("^" + re.escape(texts.ActionId.PAGE) + r"(:\d+)?$")


async def _tell(respond: AsyncRespond, text: str) -> None:
    await respond(response_type="ephemeral", replace_original=False, **note(text).payload())


def _card_location(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return channel, container.get("message_ts")


def register(app: AsyncApp, services: Services) -> None:
    operations = services.operations

    async def click_ack(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack_click(ack, services, context)

    async def approve(
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        async def job() -> None:
            services.metrics.clicks.labels(texts.ActionId.APPROVE.value).inc()
            proposal_id, revision = payload.proposal_button(action)
            actor = await services.identity.actor(payload.user_id(body), payload.origin(body))
            result = await operations.approve(proposal_id, actor=actor, revision=revision)
            if is_home_click(body):
                await publish_home(services, client, actor.user_id)  # the Home shows what changed
                return
            await _tell(respond, result.message)

        await run_lazy(services, context, body, respond, client, job, busy=busy_by_respond(respond))

    async def open_modal(
        kind: texts.ActionId,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        services.metrics.clicks.labels(kind.value).inc()
        proposal_id, _revision = payload.proposal_button(action)
        proposal = await operations.get(proposal_id)
        if proposal.state is not ProposalState.PENDING:
            await _tell(respond, f"#{proposal.id}: {outcome_line(proposal)}")
            return
        channel, message_ts = _card_location(body)
        context = ModalContext.of(proposal, channel=channel, message_ts=message_ts)
        view = (
            reject_modal(proposal, context)
            if kind is texts.ActionId.REJECT
            else edit_modal(proposal, context)
        )
        await client.views_open(trigger_id=body["trigger_id"], view=validated_view(view))

    def modal_opener(kind: texts.ActionId) -> Callable[..., Awaitable[None]]:
        async def open_it(
            body: dict[str, Any],
            action: dict[str, Any],
            respond: AsyncRespond,
            client: AsyncWebClient,
            context: AsyncBoltContext,
        ) -> None:
            await run_lazy(
                services,
                context,
                body,
                respond,
                client,
                lambda: open_modal(kind, body, action, respond, client),
                busy=busy_by_respond(respond),
                start_within=TRIGGER_START_WITHIN,
            )

        # Bolt tells lazy listeners apart by name.
        open_it.__name__ = open_it.__qualname__ = f"open_{kind.name.lower()}_modal"
        return open_it

    async def page(
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        async def job() -> None:
            services.metrics.clicks.labels(texts.ActionId.PAGE.value).inc()
            ref = payload.page_button(action)
            try:
                channel = (body.get("channel") or {}).get("id")
                command = grammar.parse(ref.command, default_cluster=services.cluster_of(channel))
            except GrammarError:
                await _tell(respond, texts.CARD_UNREADABLE)
                return
            if isinstance(command, grammar.Help | grammar.RunAction | grammar.Undo):
                await _tell(respond, texts.CARD_UNREADABLE)
                return
            await services.identity.actor(payload.user_id(body), payload.origin(body))
            listing = await read_listing(services, command)
            message = listing_page(listing, page=ref.page, command=ref.command)
            await respond(replace_original=True, **message.payload())

        await run_lazy(services, context, body, respond, client, job, busy=busy_by_respond(respond))

    app.action(texts.ActionId.APPROVE.value)(ack=click_ack, lazy=[approve])
    app.action(texts.ActionId.REJECT.value)(ack=click_ack, lazy=[modal_opener(texts.ActionId.REJECT)])
    app.action(texts.ActionId.EDIT.value)(ack=click_ack, lazy=[modal_opener(texts.ActionId.EDIT)])
    app.action(PAGE_ACTION)(ack=click_ack, lazy=[page])
