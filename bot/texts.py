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
UNKNOWN_CLUSTERS = "There is no cluster `{asked}` here; this bot operates {known}. Nothing was done."
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
RISK_LINE = "*Why this tier* {reason}"
NO_APPROVER_LINE = "⛔ {gap}"
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
SUPERSEDED_FINDING_CLEARED = (
    "↪️ Superseded — the finding it answered (`{key}`, ticket #{id}) has cleared: the agent no longer "
    "sees the problem, so there is nothing to approve"
)
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
DRY_RUN_NOBODY_APPROVES = "⛔ It passes its checks, but nobody could approve it. Nothing was sent to PD."
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
ON_CLUSTER = " on `{cluster}`"  # after a pending or audit row's subject, when the bot names its clusters
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
    "region": "/tikv region REGION_ID [--json]  — e.g. /tikv region 12",
    "store": "/tikv store STORE_ID [--json]  — e.g. /tikv store 4",
    "pending": "/tikv pending",
    "audit": "/tikv audit [region R] [store S] [ticket T] [proposal P] [user @U] [since 2h] [N]  "
    "— e.g. /tikv audit region 12 since 2h",
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
AUDIT_FILTER = "`audit` filters by region, store, ticket, proposal, user or since, not `{word}`."
AUDIT_NEEDS_VALUE = "`audit {kind}` needs a value, e.g. `audit user @alice` or `audit since 2h`."
AUDIT_USER = "`{word}` is not a person: mention them, e.g. `audit user @alice`."
AUDIT_SINCE = "`{word}` is not a duration such as 30m, 2h, 1d or 1w."
AUDIT_TIMELINE_FOOTER = "oldest first, the last {limit} events"
AUDIT_TIMELINE_TITLE = "Timeline of proposal #{id}"
AUDIT_WITHIN = "the last {hours:g} h"
AUDIT_NEEDS_ID = "`audit {kind}` needs one {kind} id (and optionally a row count)."
AUDIT_ID = "The {kind} id"
AUDIT_ROWS = "The number of rows"
AUDIT_RANGE = "Ask for between 1 and {most} audit rows, not {limit}."

# --- pd-ctl-like reads (issue 16) ----------------------------------------------------------------

READ_USAGE = {
    "config show": "/tikv config show [schedule|replication|label-property|all]  "
    "— e.g. /tikv config show schedule",
    "operator show": "/tikv operator show [region R] | operator history  "
    "— e.g. /tikv operator show region 12",
    "scheduler config": "/tikv scheduler show | scheduler config NAME  "
    "— e.g. /tikv scheduler config evict-leader",
    "hot": "/tikv hot read|write|store  — e.g. /tikv hot write",
    "region check": "/tikv region check KIND  — e.g. /tikv region check down-peer",
    "region key": "/tikv region key [--format=hex|raw] KEY  — e.g. /tikv region key 7480000000000000FF",
    "region sibling": "/tikv region sibling REGION_ID  — e.g. /tikv region sibling 12",
    "region top": "/tikv region top read|write|size [N]  — e.g. /tikv region top write 5",
    "store limit": "/tikv store limit",
    "labels": "/tikv labels",
    "members": "/tikv members",
}
READ_HELP_TITLE = "*Look like pd-ctl* — each answer names the PD endpoint it read and the pd-ctl command"
READ_CHOOSE = "`{name}` takes one of {choices}."
READ_ONLY_SHOW = (
    "`{name}` only shows here: `/tikv {name} show`; changes go through actions such as set-config."
)
READ_OPERATOR = "`operator` reads with `show`, `show region R` or `history`."
READ_SCHEDULER = "`scheduler` reads with `show` or `config NAME`."
READ_TOP_RANGE = "Ask for between 1 and {most} regions, not {limit}."
READ_KEY_FORMAT = "`{word}`: the key format is hex or raw."
READ_ONE_KEY = "`region key` takes one key."
READ_NOT_HEX = "`{key}` is not a hex key (an even number of 0-9 and A-F)."
READ_PD_CTL = "*pd-ctl:* {command}"
READ_ENDPOINT = "GET {path}"
READ_COUNT = "*{count}* {what}"
READ_NONE = "None."
READ_UNAVAILABLE = "PD could not be asked ({what}): {error}"
READ_TIMEOUT = "PD did not answer {what} within {seconds:g}s; try again."
READ_NO_SCHEDULER = "No scheduler `{name}` is running, so PD has no config for it."
READ_NO_OPERATOR = "No operator ran on region {id} in the last 10 minutes."
READ_NO_KEY = "No region holds key `{key}`."
READ_KEY_AS = "Key read as {format}."
REGION_HINT = "Regions PD knows include {ids}; `/tikv region top size` lists the biggest."
JSON_FLAG = "--json"
JSON_UPLOADED = "The raw JSON of {what} is attached in <#{channel}>."
JSON_COMMENT = "Raw JSON of {what}, as PD answered `GET {path}`."
READ_TITLES = {
    "config show": "PD config: {section}",
    "operator show": "Operators running",
    "operator region": "Operator on region {id}",
    "operator history": "Operators finished recently",
    "scheduler show": "Schedulers",
    "scheduler config": "Scheduler config: {name}",
    "hot read": "Hot read regions by store",
    "hot write": "Hot write regions by store",
    "hot store": "Hot stores",
    "region check": "Regions with {kind}",
    "region key": "Region {id} (by key)",
    "region sibling": "Siblings of region {id}",
    "region top": "Top {count} regions by {kind}",
    "store limit": "Store limits",
    "labels": "Store labels",
    "members": "PD members",
}
READ_CHECK_WHAT = "regions PD lists under {kind}"
HOT_REGIONS = "*Hottest leaders:* {regions}"
STORE_LIMIT_UNIT = "Operators each store may take per minute, by kind."
FACT_LEADER = "Leader"
FACT_STORE = "store {store}"
FACT_PEERS = "Peers"
FACT_SIZE = "Size"
FACT_SIZE_VALUE = "{size} MiB · {keys} keys"
FACT_EPOCH = "Epoch"
FACT_EPOCH_VALUE = "conf_ver {conf_ver} · version {version}"
FACT_RANGE = "Keys"
FACT_RANGE_VALUE = "`{start}` … `{end}`"
FACT_FLOW = "Written / read"
FACT_FLOW_VALUE = "{written} / {read} per heartbeat"
FACT_DOWN = "Down peers on stores"
FACT_PENDING = "Pending peers on stores"
FACT_STATUS = "Status"
FACT_OPERATOR = "Operator"
FACT_BRIEF = "What it does"
STATUS_STORE_DOWN = "🔴 *Store {id}* is {state}: no heartbeat for {duration}"
STATUS_DEGRADED = "*Degraded regions:* {counts}"
STATUS_PAUSED = "⏸️ *Paused schedulers:* {names}"
STATUS_RUNNING_OPERATORS = "⚙️ *Operators running:* {count}"
RAW_JSON_HINT = "PD's raw JSON: `/tikv {command} --json`."
STORE_STATE_FOR = "{icon} {state} for {duration}"
STORE_STATE_UP = "{icon} Up for {uptime}"
STORE_LIMIT_VALUE = "add-peer {add} · remove-peer {remove} per minute"
STORE_LIMIT_UNKNOWN = "PD did not say"
STORE_NO_HEARTBEAT = "never"
STORE_SPACE_VALUE = "{available} free of {capacity} ({used} used)"
STORE_COUNT_VALUE = "{count} · weight {weight} · score {score}"
FACT_STATE = "State"
FACT_ADDRESS = "Address · version"
FACT_LABELS = "Labels"
FACT_SPACE = "Space"
FACT_LEADERS = "Leaders"
FACT_REGIONS = "Regions"
FACT_LIMITS = "Store limit"
FACT_HEARTBEAT = "Last heartbeat"
TOLD_REJECTED = "{who}, #{id} was rejected by {by}: “{reason}”. Nothing was sent to PD."
TOLD_SOMEONE = "someone"
TOLD_NO_REASON = "no reason given"
TOLD_EXPIRED = "{who}, #{id} expired: nobody decided before {when}. Propose it again if it is still needed."
TOLD_SUPERSEDED = (
    "{who}, #{id} is closed: the cluster changed and it no longer passes its checks, so nothing was sent. "
    "Propose it again if it is still needed."
)
TOLD_FAILED = "{who} "
CHECK_DETAILS = "🔎 *Details of #{id}'s checks* — the data PD gave each check"
DRY_RUN_DETAILS = "🔎 *Details of the checks* — the data PD gave each check"
EDIT_CHECK_FAILED = "PD's checks refuse this: {checks}"
EDIT_CHECKED_LATE = (
    "PD took longer than 1.5 s to answer while the form was open, so its checks ran after it closed. "
    "{message}"
)
HOME_AWAITING = "Waiting for your approval"
HOME_OWN = "Your open proposals"
HOME_NONE_AWAITING = "Nothing is waiting for your approval."
HOME_NONE_OWN = "You have no open proposals."
HOME_ROW = "*#{id}* {what} · {tier} · by {who} · {received} of {required} approvals · expires {when}"
HOME_FOOTER = "Refreshed each time you open this tab · `/tikv pending` lists every open proposal"
STORE_STATE_DRAINING = "{icon} Offline: draining, {regions} regions left to move"
