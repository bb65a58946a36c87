"""Every string the bot shows people, and every id Slack sends back to it, in one place.

The ids are a contract with Slack (and with manifest.yml): ``COMMAND`` is the slash command,
``ActionId`` the ``action_id`` of each button, ``CallbackId`` the ``callback_id`` of each modal,
``BlockId`` the ``block_id`` of the modal inputs whose errors travel back in ``response_action``.
"""

from __future__ import annotations

import enum

COMMAND = "/tikv"


class ActionId(enum.StrEnum):
    """``action_id`` of every interactive element the bot renders."""

    APPROVE = "tikv_approve"
    REJECT = "tikv_reject"
    EDIT = "tikv_edit"
    PAGE = "tikv_page"  # Prev/Next on a long listing; the value carries the command and the page


class CallbackId(enum.StrEnum):
    """``callback_id`` of every modal the bot opens."""

    REJECT = "tikv_reject_modal"
    EDIT = "tikv_edit_modal"


class BlockId(enum.StrEnum):
    """Fixed ``block_id``s of modal inputs (edit inputs are ``PARAM_PREFIX + name``)."""

    REASON = "reason"
    PROPOSAL_ACTIONS = "proposal_actions"


PARAM_PREFIX = "param:"
INPUT_ACTION = "value"  # the action_id of every plain-text input inside a modal

# --- fixed sentences ---------------------------------------------------------------------------

UNEXPECTED_ERROR = (
    "Something went wrong on the bot's side; nothing more was done. "
    "The team can find the details in the bot's log."
)
UNKNOWN_CLUSTER = "This bot operates the cluster `{known}`; there is no cluster `{asked}` here."
CARD_UNREADABLE = "This button is from a card the bot cannot read any more; ask for /tikv pending."

IDENTITY_DELETED = "Your Slack account is deactivated, so the bot does not accept requests from it."
IDENTITY_BOT = "Bots and apps cannot request or approve actions; a person has to."
IDENTITY_GUEST = (
    "Guest accounts cannot request or approve cluster actions; ask a full member of the workspace."
)
IDENTITY_UNKNOWN = (
    "The bot could not look up your Slack account ({error}), so it cannot check your permissions."
)

REJECT_TITLE = "Reject proposal"
REJECT_SUBMIT = "Reject"
REJECT_REASON_LABEL = "Why are you rejecting it?"
REJECT_REASON_HINT = "The requester and the audit log see this."
REJECT_REASON_MISSING = "Say why, in a few words."
EDIT_TITLE = "Edit proposal"
EDIT_SUBMIT = "Save revision"
CANCEL = "Cancel"
EDIT_HINT = "Saving makes a new revision; approvals of the old one no longer count."

APPROVE_LABEL = "Approve"
REJECT_LABEL = "Reject"
EDIT_LABEL = "Edit"
NEXT_LABEL = "Next ›"
PREV_LABEL = "‹ Prev"

CONFIRM_TITLE = "Approve this {tier} action?"
CONFIRM_TEXT = "{what}. {consequence}"
CONFIRM_YES = "Approve"
CONFIRM_NO = "Not yet"
CONSEQUENCE = {
    "structural": "It changes where data lives; PD moves replicas until it finishes.",
    "irreversible": "It cannot be undone once PD has done it.",
}

NOTHING_PENDING = "Nothing is waiting for approval."
NO_AUDIT_ROWS = "No audit rows match."
HELP_HEADER = "What you can run with /tikv"
PROPOSED = (
    "Proposed #{id}: {what}. It needs {needed} approval{s} from someone other than you; "
    "the card is in <#{channel}>."
)
PROPOSED_NO_CARD = (
    "Proposed #{id}: {what}. It needs {needed} approval{s} from someone other than you; "
    "the card could not be posted yet (see /tikv pending)."
)
REJECTED_ACK = "Rejected #{id}."
EDITED_ACK = "Saved #{id} as revision {revision}; it needs fresh approvals."
DRY_RUN_HEADER = "<@{user}> ran `/tikv {text}`"
