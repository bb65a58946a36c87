"""The two modals: Reject (asks a reason) and Edit (the catalog's parameters, pre-filled).

Each modal's ``private_metadata`` carries the proposal id, the revision it was opened on, the action
and where the card lives, so a submission can be validated (purely, before the ack) and answered
without reading anything first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from actions.catalog import CATALOG
from actions.models import ActionType, Proposal
from actions.params import ParamSpec
from bot import texts
from bot.render.kit import INPUT_HINT, INPUT_LABEL, INPUT_VALUE, MODAL_TITLE, clip, context, escape, section
from bot.render.proposal import what

REASON_MAX = 500


@dataclass(frozen=True, slots=True)
class ModalContext:
    """What a submitted modal is about (its ``private_metadata``)."""

    proposal_id: int
    revision: int
    action: ActionType
    channel: str | None = None
    message_ts: str | None = None

    def encode(self) -> str:
        return json.dumps(
            {
                "p": self.proposal_id,
                "r": self.revision,
                "a": self.action.value,
                "c": self.channel,
                "t": self.message_ts,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, metadata: str) -> ModalContext:
        """Raises ``ValueError`` (or ``KeyError``) when ``metadata`` is not one of ours."""
        data = json.loads(metadata)
        return cls(
            proposal_id=int(data["p"]),
            revision=int(data["r"]),
            action=ActionType(data["a"]),
            channel=data.get("c"),
            message_ts=data.get("t"),
        )

    @classmethod
    def of(
        cls, proposal: Proposal, *, channel: str | None = None, message_ts: str | None = None
    ) -> ModalContext:
        return cls(
            proposal_id=proposal.id,
            revision=proposal.revision,
            action=proposal.request.action,
            channel=channel or proposal.channel,
            message_ts=message_ts or proposal.message_ts,
        )


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit))


def reject_modal(proposal: Proposal, ctx: ModalContext) -> View:
    """Asks why; the reason goes to the card, the thread and the audit log."""
    return View(
        type="modal",
        callback_id=texts.CallbackId.REJECT,
        title=_plain(texts.REJECT_TITLE, MODAL_TITLE),
        submit=_plain(texts.REJECT_SUBMIT, MODAL_TITLE),
        close=_plain(texts.CANCEL, MODAL_TITLE),
        private_metadata=ctx.encode(),
        blocks=[
            section(f"*#{proposal.id}:* {escape(what(proposal))}"),
            InputBlock(
                block_id=texts.BlockId.REASON,
                label=_plain(texts.REJECT_REASON_LABEL, INPUT_LABEL),
                hint=_plain(texts.REJECT_REASON_HINT, INPUT_HINT),
                element=PlainTextInputElement(
                    action_id=texts.INPUT_ACTION, multiline=True, min_length=1, max_length=REASON_MAX
                ),
            ),
        ],
    )


def _element(param: ParamSpec, current: str) -> PlainTextInputElement | StaticSelectElement:
    """A select for a closed set of words, a text input for everything else."""
    if param.choices:
        options = [Option(value=c, text=PlainTextObject(text=clip(c, 75))) for c in param.choices[:100]]
        initial = next((o for o in options if o.value == current), None)
        return StaticSelectElement(action_id=texts.INPUT_ACTION, options=options, initial_option=initial)
    return PlainTextInputElement(
        action_id=texts.INPUT_ACTION,
        initial_value=clip(current, INPUT_VALUE) if current else None,
        max_length=INPUT_VALUE,
    )


def edit_modal(proposal: Proposal, ctx: ModalContext) -> View:
    """One input per catalog parameter, pre-filled with the current values."""
    spec = CATALOG[proposal.request.action]
    blocks: list[Block] = [section(f"*#{proposal.id}:* {escape(what(proposal))}")]
    defaults = {p.name: p.default for p in spec.params if p.default is not None}
    typed = spec.raw_params({**defaults, **proposal.request.params})
    for param in spec.params:
        current = typed.get(param.name, "")
        blocks.append(
            InputBlock(
                block_id=texts.PARAM_PREFIX + param.name,
                label=_plain(param.label or param.name, INPUT_LABEL),
                hint=_plain(param.help, INPUT_HINT) if param.help else None,
                element=_element(param, current),
                optional=param.optional,
            )
        )
    blocks.append(context(texts.EDIT_HINT))
    return View(
        type="modal",
        callback_id=texts.CallbackId.EDIT,
        title=_plain(texts.EDIT_TITLE, MODAL_TITLE),
        submit=_plain(texts.EDIT_SUBMIT, MODAL_TITLE),
        close=_plain(texts.CANCEL, MODAL_TITLE),
        private_metadata=ctx.encode(),
        blocks=blocks,
    )


def input_values(state: Mapping[str, Any]) -> dict[str, str]:
    """``{block_id: typed text}`` from a view's ``state.values`` (blank inputs are left out)."""
    values: dict[str, str] = {}
    for block_id, actions in (state.get("values") or {}).items():
        if not isinstance(actions, Mapping):
            continue
        entry = actions.get(texts.INPUT_ACTION)
        text: object = None
        if isinstance(entry, Mapping):
            selected = entry.get("selected_option")
            text = selected.get("value") if isinstance(selected, Mapping) else entry.get("value")
        if isinstance(text, str) and text.strip():
            values[str(block_id)] = text.strip()
    return values


def edit_params(state: Mapping[str, Any]) -> dict[str, str]:
    """The parameters typed into the Edit modal, by parameter name."""
    return {
        block_id.removeprefix(texts.PARAM_PREFIX): text
        for block_id, text in input_values(state).items()
        if block_id.startswith(texts.PARAM_PREFIX)
    }


def edit_errors(errors: Mapping[str, str], action: ActionType) -> dict[str, str]:
    """Catalog errors (by parameter) keyed by the input ``block_id`` Slack shows them under.

    An error about no particular field goes under the first input, since Slack can only show errors
    under input blocks.
    """
    names = [p.name for p in CATALOG[action].params]
    shown: dict[str, str] = {}
    for name, message in errors.items():
        target = name if name in names else (names[0] if names else name)
        block_id = texts.PARAM_PREFIX + target
        shown[block_id] = clip(f"{shown[block_id]} {message}" if block_id in shown else message, 2000)
    return shown
