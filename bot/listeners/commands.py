"""``/tikv``: ack (a pure ack function), then — in a lazy listener — parse the text, call one domain
function, answer.

Reads (help, status, region, store, pending, audit) answer the caller ephemerally, long ones in pages;
a dry-run answers in a thread under a short channel message (or ephemerally, by setting); a proposal
posts its card in the channel and tells the caller ephemerally. Refusals are raised and answered by
``bot.listeners.errors``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from actions.clusters import known_list
from actions.models import ActionRequest, Actor, Proposal
from actions.ports import AuditQuery
from bot import grammar, texts
from bot.errors import GrammarError
from bot.listeners import payload
from bot.listeners.acks import ack_command, run_lazy
from bot.notify_failures import SLACK_FAILURES
from bot.render.checks import details_message
from bot.render.cluster import region_listing, status_listing, store_listing
from bot.render.dryrun import dry_run_header, dry_run_message
from bot.render.help import action_help, help_message
from bot.render.kit import Message, escape
from bot.render.listing import Listing, listing_page
from bot.render.notices import note, note_mrkdwn, usage
from bot.render.proposal import what
from bot.render.records import audit_listing, pending_listing
from bot.render.tables import pd_read_listing
from bot.services import Services

logger = logging.getLogger(__name__)

ReadCommand = (
    grammar.Status | grammar.ShowRegion | grammar.ShowStore | grammar.Pending | grammar.Audit | grammar.PdRead
)


def command_kind(command: grammar.Command) -> str:
    """The metrics label of a command: a fixed, small set."""
    if isinstance(command, grammar.RunAction):
        return "dry-run" if command.dry_run else "propose"
    return {
        grammar.Help: "help",
        grammar.Status: "status",
        grammar.ShowRegion: "region",
        grammar.ShowStore: "store",
        grammar.Pending: "pending",
        grammar.Audit: "audit",
        grammar.Undo: "undo",
        grammar.PdRead: "pd-read",
    }[type(command)]


async def read_listing(services: Services, command: ReadCommand) -> Listing:
    """The listing a read command shows (also rebuilt for each Prev/Next click)."""
    reads = services.reads_of(command.cluster)
    if isinstance(command, grammar.Status):
        return status_listing(await reads.status())
    if isinstance(command, grammar.ShowRegion):
        view = await reads.region(command.region_id)
        return region_listing(command.region_id, view, raw_json=command.raw_json)
    if isinstance(command, grammar.ShowStore):
        store_view = await reads.store(command.store_id)
        return store_listing(command.store_id, store_view, raw_json=command.raw_json)
    if isinstance(command, grammar.PdRead):
        return pd_read_listing(await reads.pd_read(command))
    if isinstance(command, grammar.Pending):
        return pending_listing(await services.operations.pending())
    query = AuditQuery(
        limit=command.limit,
        region_id=command.region_id,
        store_id=command.store_id,
        ticket_id=command.ticket_id,
        proposal_id=command.proposal_id,
        actor=command.user,
        within=None if command.since_seconds is None else timedelta(seconds=command.since_seconds),
    )
    return audit_listing(query, await services.operations.audit(query))


def delivery_keys(body: dict[str, Any]) -> list[str]:
    """What identifies one delivery of a command: its trigger id, and a hash of everything it carried
    (a replay of the same signed body has both)."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    keys = [f"body:{digest}"]
    trigger = body.get("trigger_id")
    if isinstance(trigger, str) and trigger:
        keys.append(f"trigger:{trigger}")
    return keys


def _proposed(proposal: Proposal) -> Message:
    needed = proposal.approvals_required
    values = {"id": proposal.id, "what": what(proposal), "needed": needed, "s": "" if needed == 1 else "s"}
    if proposal.channel and proposal.message_ts:
        # The channel is a link (<#C…>): escape the words around it, not the link itself.
        escaped = {**values, "what": escape(str(values["what"]))}
        return note_mrkdwn(texts.PROPOSED.format(channel=escape(proposal.channel), **escaped))
    return note(texts.PROPOSED_NO_CARD.format(**values))


def unknown_cluster(known: tuple[str, ...], asked: str) -> str:
    """Why ``-c ASKED`` is refused: the clusters this bot operates."""
    if len(known) == 1:
        return texts.UNKNOWN_CLUSTER.format(known=known[0], asked=asked)
    return texts.UNKNOWN_CLUSTERS.format(known=known_list(known), asked=asked)


class CommandHandler:
    """Runs one parsed /tikv command for one person."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def handle(self, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        services = self._services
        text = str(body.get("text") or "").strip()
        channel = str(body["channel_id"]) if body.get("channel_id") else None
        try:
            command = grammar.parse(text, default_cluster=services.cluster_of(channel))
        except GrammarError as exc:
            services.metrics.commands.labels("invalid").inc()
            await _ephemeral(respond, usage(str(exc), exc.usage))
            return
        services.metrics.commands.labels(command_kind(command)).inc()
        if command.cluster not in services.known_clusters:
            await _ephemeral(respond, note(unknown_cluster(services.known_clusters, command.cluster)))
            return
        actor = await services.identity.actor(payload.user_id(body), payload.origin(body))
        writes = isinstance(command, grammar.RunAction | grammar.Undo)
        if writes and not await services.operations.first_delivery(delivery_keys(body)):
            # Slack (or someone holding a captured request) sent it again: it ran the first time.
            await _ephemeral(respond, note(texts.ALREADY_RECEIVED))
            return
        if isinstance(command, grammar.Help):
            await _ephemeral(respond, self._help(command, actor))
        elif isinstance(command, grammar.RunAction):
            request = ActionRequest(
                action=command.action, params=command.params, cluster=command.cluster, requester=actor.user_id
            )
            if command.dry_run:
                await self._dry_run(request, actor, text, channel, respond, client)
            else:
                proposal = await services.operations.propose(request, actor=actor, channel=channel)
                await _ephemeral(respond, _proposed(proposal))
        elif isinstance(command, grammar.Undo):
            proposal = await services.operations.undo(command.proposal_id, actor=actor, channel=channel)
            await _ephemeral(respond, _proposed(proposal))
        else:
            listing = await read_listing(services, command)
            raw = isinstance(command, grammar.ShowRegion | grammar.ShowStore) and command.raw_json
            if raw and listing.code and channel is not None and await _upload_json(client, channel, listing):
                uploaded = texts.JSON_UPLOADED.format(what=escape(listing.title), channel=escape(channel))
                await _ephemeral(respond, note_mrkdwn(uploaded))
                return
            await _ephemeral(respond, listing_page(listing, page=1, command=text))

    def _help(self, command: grammar.Help, actor: Actor) -> Message:
        if command.action is not None:
            return action_help(command.action)
        policy = self._services.operations.policy
        return help_message(lambda action: policy.may_request(actor, action))

    async def _dry_run(
        self,
        request: ActionRequest,
        actor: Actor,
        text: str,
        channel: str | None,
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        report = await self._services.operations.dry_run(request, actor=actor)
        message = dry_run_message(report)
        if self._services.dry_run_ephemeral or channel is None:
            await _ephemeral(respond, message)
            return
        try:
            parent = await client.chat_postMessage(
                channel=channel,
                text=dry_run_header(actor.user_id, text),
            )
            await client.chat_postMessage(channel=channel, thread_ts=parent["ts"], **message.payload())
            details = details_message(texts.DRY_RUN_DETAILS, report.preflight)
            if details is not None:
                await client.chat_postMessage(channel=channel, thread_ts=parent["ts"], **details.payload())
        except SLACK_FAILURES:
            # The bot may not be in that channel (or it is a DM): the caller still gets the report.
            logger.warning("posting the dry-run in %s failed; answering ephemerally", channel, exc_info=True)
            await _ephemeral(respond, message)


async def _upload_json(client: AsyncWebClient, channel: str, listing: Listing) -> bool:
    """PD's JSON behind ``listing`` as a file in ``channel``; False when Slack would not take it."""
    what = listing.title
    try:
        await client.files_upload_v2(
            channel=channel,
            content="\n".join(listing.rows),
            filename=what.lower().replace(" ", "-") + ".json",
            title=what,
            initial_comment=texts.JSON_COMMENT.format(what=what, path=listing.footer.removeprefix("GET ")),
        )
    except SLACK_FAILURES:
        logger.warning("uploading the JSON of %s to %s failed; answering in pages", what, channel)
        return False
    return True


async def _ephemeral(respond: AsyncRespond, message: Message) -> None:
    await respond(response_type="ephemeral", replace_original=False, **message.payload())


def register(app: AsyncApp, services: Services) -> None:
    handler = CommandHandler(services)

    async def tikv_ack(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack_command(ack, services, context)

    async def tikv_command(
        body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        job = lambda: handler.handle(body, respond, client)  # noqa: E731
        await run_lazy(services, context, body, respond, client, job)

    app.command(texts.COMMAND)(ack=tikv_ack, lazy=[tikv_command])
