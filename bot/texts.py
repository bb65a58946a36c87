"""Every string the bot shows people, and every id Slack sends back to it, in one place.

The ids are a contract with Slack (and with manifest.yml): ``COMMAND`` is the slash command,
``ActionId`` the ``action_id`` of each button, ``CallbackId`` the ``callback_id`` of each modal,
``BlockId`` the ``block_id`` of the modal inputs whose errors travel back in ``response_action``.

The copy is plain text or mrkdwn with ``str.format`` fields; ``bot.render`` and ``bot.grammar`` only
fill them in. Sentences about the domain (refusals, PD's errors) come from ``actions`` and are shown
as written there.
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
STORAGE_UNAVAILABLE = (
    "The bot's database is busy or cannot be written right now, so this was not recorded and nothing "
    "more was done. Try again in a moment."
)
# The database failed after the first step committed (actions.errors.Recorded): what stands, what next.
STORAGE_APPROVAL_RECORDED = (
    "Your approval of #{id} is recorded, but the bot's database is busy, so the card may not show it "
    "yet. No need to approve again."
)
STORAGE_RUN_WAITS = (
    "Your approval of #{id} is recorded and completes it, but the bot's database is busy, so nothing "
    "was sent to PD yet. The bot starts the run by itself as soon as the database is usable again "
    "(checking the cluster first); no need to approve again."
)
STORAGE_CARD_UNNOTED = (
    "Proposed #{id}: its card is posted, but the bot's database is busy and could not note where, "
    "so the card will not show what happens to it. Its buttons still work and /tikv pending lists it; "
    "don't propose it again."
)
UNKNOWN_CLUSTER = "This bot operates the cluster `{known}`; there is no cluster `{asked}` here."
CARD_UNREADABLE = "This button is from a card the bot cannot read any more; ask for /tikv pending."
REQUEST_UNREADABLE = "The bot could not tell who sent this request, so it did nothing."

IDENTITY_DELETED = "Your Slack account is deactivated, so the bot does not accept requests from it."
IDENTITY_BOT = "Bots and apps cannot request or approve actions; a person has to."
IDENTITY_GUEST = (
    "Guest accounts cannot request or approve cluster actions; ask a full member of the workspace."
)
IDENTITY_UNKNOWN = (
    "The bot could not look up your Slack account ({error}), so it cannot check your permissions."
)
IDENTITY_NO_WORKSPACE = (
    "The bot could not confirm which Slack workspace it is installed in ({error}), so it cannot check "
    "that you belong to it. Try again in a minute."
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
    "Slack did not show its card yet. /tikv pending lists it."
)
REJECTED_ACK = "Rejected #{id}."
EDITED_ACK = "Saved #{id} as revision {revision}; it needs fresh approvals."
EDITED_BY = "Edited by {who} (revision {revision}): {changes}"
EDITED_NOTHING = "no parameter changed"
RECHECKED_BY_BOT = "Re-checked by the bot (revision {revision}): the cluster changed, the parameters did not."
ALREADY_RECEIVED = "Already received: this command reached the bot before, and it is not run twice."
DRY_RUN_HEADER = "<@{user}> ran `/tikv {text}`"

# --- the proposal card and its thread ------------------------------------------------------------

STATE_LINE = {
    "pending": "⏳ Waiting for approval",
    "approved": "👍 Approved — sending it to PD",
    "executing": "⚙️ Executing — PD is working on it",
    "succeeded": "✅ Succeeded",
    "failed": "❌ Failed",
    "unknown": "❓ Outcome unknown",
    "rejected": "🚫 Rejected",
    "expired": "⌛ Expired — nobody decided in time",
    "superseded": "↪️ Superseded — the cluster changed and it no longer passes its checks",
}
CARD_TITLE = "Proposal #{id}: {action}"
CARD_TEXT = "Proposal #{id} ({state}): {what}"
BY_THE_AGENT = "{who} (the agent)"
APPROVALS_RECEIVED = "{received} of {required}"
LABEL_REQUESTED_BY = "Requested by"
LABEL_TIER = "Tier"
LABEL_APPROVALS = "Approvals"
LABEL_EXPIRES = "Expires"
LABEL_CLUSTER = "Cluster"
LABEL_REVISION = "Revision"
LABEL_PD_REQUEST = "PD request"
LABEL_PD_CTL = "pd-ctl"
LABEL_PD_ANSWERED = "PD answered"
LABEL_OPERATOR = "Operator"
LABEL_CALLER_ID = "X-Caller-ID"
BUSY = "⏳ The bot is busy right now; try again in a moment."
WHY = "*Why:*"
FINDING = "🎫 *Finding:* {title} (`{key}`, ticket #{id})"
MORE_FACTS = "_… and {count} more facts_"
DECIDED_BY = " by {who} · {when}"
REASON = ": “{reason}”"
APPROVED_BY = " · approved by {who}"
FOOTER_PROPOSAL = "Proposal #{id} · revision {revision}"
FOOTER_UNDOES = "undoes #{id}"
FOOTER_TICKET = "ticket #{id}"
FOOTER_CONFIDENCE = "agent confidence {confidence:.0%}"
PROGRESS = "⚙️ *Progress of #{id}:* {text}"
RESULT_ICON = {"succeeded": "✅", "failed": "❌", "unknown": "❓"}
RESULT_LINE = "{icon} *#{id} {state}:* {message}"
RESULT_TEXT = "{icon} #{id} {state}: {message}"
HTTP_STATUS = "HTTP {status}"
VERIFICATION = "*Verification:* {line}"
STARTED = "started {when}"
FINISHED = "finished {when}"

# --- preflight checks ----------------------------------------------------------------------------

CHECK_ICON = {"pass": "✅", "warn": "⚠️", "fail": "❌"}
CHECKS_TITLE = "Preflight"
CHECKS_NONE = "*{title}:* no checks were run"
CHECKS_HEAD = "*{title}:* {summary}"
CHECKS_PASSED = "{icon} {count} passed"
CHECKS_WARNINGS = "{icon} {count} warning{s}"
CHECKS_FAILED = "{icon} {count} failed"
CHECKS_NOT_SHOWN = "_… and {count} more check{s} not shown_"

# --- dry-run -------------------------------------------------------------------------------------

DRY_RUN_TITLE = "Dry-run: {action}"
DRY_RUN_WOULD_FAIL = "❌ It would be refused: a check fails."
DRY_RUN_WOULD_PASS = "✅ It would be accepted now. Nothing was sent to PD."
DRY_RUN_APPROVALS = "Approvals it would need"
DRY_RUN_CHECKS = "Checks"
DRY_RUN_REQUEST = "*PD request it would send*"
DRY_RUN_PD_CTL = "*pd-ctl equivalent*"
DRY_RUN_CHECKS_TITLE = "Checks against live PD"
DRY_RUN_AUDITED = "Recorded in the audit log as row {id} (dry run)."
DRY_RUN_TEXT = "Dry-run of {what}: {summary}"

# --- listings ------------------------------------------------------------------------------------

PAGE_FOOTER = "Page {page} of {pages} · {rows} row{s}"
PENDING_TITLE = "Waiting for approval"
PENDING_ROW = "*#{id}* {what} · {tier} · by {who} · {received} of {required} approvals · expires {when}"
AUDIT_TITLE = "Audit log"
AUDIT_TITLE_FOR = "Audit log: {what} {id}"
AUDIT_FOOTER = "newest first, at most {limit}"
AUDIT_DRY_RUN = "_dry run_"
AUDIT_INTENT = "about to call PD"
AUDIT_WOULD_FAIL = "would be refused"
AUDIT_WOULD_PASS = "would pass"
NOTHING_TO_SHOW = "Nothing to show."

# --- cluster views -------------------------------------------------------------------------------

STATUS_TITLE = "Cluster status"
STATUS_UNREADABLE = "PD could not be read."
STATUS_PD = "{icon} *PD:* {healthy} of {members} members healthy · leader {leader}"
STATUS_NO_LEADER = "*none*"
STATUS_STORES = "*Stores:* {count} ({states})"
STATUS_SCHEDULERS = "*Schedulers:* {names}"
STATUS_NONE = "none"
STATUS_PROBLEM = "⚠️ {problem}"
STATUS_OPERATOR = "⚙️ *operator* region {region}: {desc} ({brief}) · {status}"
STATUS_NO_OPERATORS = "⚙️ No operators running."
STATUS_TICKET = "🎫 *ticket {id}* {title} (`{key}`) · opened {when}"
STATUS_FINDINGS = "🎫 *Open findings:* {count}, most severe first: {titles}"
STATUS_NO_TICKETS = "🎫 No open findings."
STORE_ROW = (
    "{icon} *store {id}* {address} · {state} · "
    "{leaders} leaders · {regions} regions · {free} free of {capacity}"
)
STORE_STATE_ICON = {"Up": "🟢", "Offline": "🟡", "Down": "🔴", "Disconnected": "🟠", "Tombstone": "⚫"}
STORE_TITLE = "Store {id}"
STORE_UNKNOWN = "PD does not know store {id}."
STORE_EVICTING = "🚚 The evict-leader scheduler is moving leaders off this store."
STORE_HEARTBEAT = "Last heartbeat {when}"
REGION_TITLE = "Region {id}"
REGION_UNKNOWN = "PD does not know region {id}."
REGION_PEER = "store {store}"
REGION_LEADER_MARK = " (leader)"
REGION_LEADER = "*Leader:* store {store} · *peers:* {peers}"
REGION_EPOCH = "*Epoch:* conf_ver {conf_ver}, version {version} · *size:* {size} MiB, {keys} keys"
REGION_DOWN = "🔴 *Down peers:* {stores}"
REGION_PENDING = "🟡 *Pending peers:* {stores}"
REGION_OPERATOR = "⚙️ *Operator:* {desc} ({brief})"

# --- help and usage ------------------------------------------------------------------------------

HELP_ACTIONS = "*Actions* — prefix any of them with `dry-run` to check it without proposing it"
HELP_ACTION_ROW = "*{action}* ({tier}) — {summary}\n      {usage} e.g. {example}"
HELP_FOOTER = "`-c CLUSTER` picks a cluster · `/tikv help ACTION` explains one action"
HELP_USAGE = "{summary}\n*Usage:* {usage}"
HELP_TIER = "Tier: {tier}"
HELP_ALIASES = " · also typed as {aliases}"
USAGE_LINE = "*Usage:* {usage}"
USAGE_HINT = "`/tikv help` lists every command; `/tikv help ACTION` explains one action."
USAGE_TEXT = "{message} Usage: {usage}"
REFUSAL = "🚫 {message}"
WARNING = "⚠️ {message}"

# --- the /tikv grammar ---------------------------------------------------------------------------

USAGE = {
    "help": "/tikv help [ACTION]  — e.g. /tikv help transfer-leader",
    "status": "/tikv status",
    "region": "/tikv region REGION_ID  — e.g. /tikv region 12",
    "store": "/tikv store STORE_ID  — e.g. /tikv store 4",
    "pending": "/tikv pending",
    "audit": "/tikv audit [N] | audit region R | audit store S | audit ticket T | audit proposal P  "
    "— e.g. /tikv audit region 12",
    "undo": "/tikv undo PROPOSAL_ID  — e.g. /tikv undo 7",
    "dry-run": "/tikv dry-run ACTION ARGS…  — e.g. /tikv dry-run transfer-leader 12 3",
    "cluster": "/tikv -c CLUSTER status",
    "any": "/tikv help  — lists every command",
}
ACTION_USAGE = "/tikv {usage}  — e.g. /tikv {example}"
PREFIXED_USAGE = "/tikv {usage}"
NO_ACTION_TO_DRY_RUN = "Which action should be dry-run?"
NEEDS_CLUSTER = "{flag} needs a cluster name."
NO_ARGUMENTS = "`{name}` takes no arguments (got {got})."
NOT_A_NUMBER = "{what} must be a whole number, not `{word}`."
ONE_ARGUMENT = "`{name}` takes exactly one argument: {what}."
A_REGION_ID = "a region id"
A_STORE_ID = "a store id"
THE_PROPOSAL_ID = "the proposal id"
NOT_A_PROPOSAL_ID = "A proposal id is a number such as 7 or #7, not `{word}`."
HELP_ONE_ACTION = "`help` takes at most one action name."
NO_SUCH_ACTION = "There is no action called `{word}`."
AUDIT_FILTER = "`audit` filters by region, store, ticket or proposal, not `{word}`."
AUDIT_NEEDS_ID = "`audit {kind}` needs one {kind} id (and optionally a row count)."
AUDIT_ID = "The {kind} id"
AUDIT_ROWS = "The number of rows"
AUDIT_RANGE = "Ask for between 1 and {most} audit rows, not {limit}."
