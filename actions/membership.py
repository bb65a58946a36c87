"""Who may act at all: only people of the workspace (or Enterprise Grid organisation) the bot is
installed in may propose, approve, reject, edit or undo.

The Slack edge gathers the facts (``actions.models.Membership``); the decision is made here. A
person from another organisation reaching the bot through a shared channel (Slack Connect) has
another home team, or is marked a stranger, and is refused; so is a request that arrives through
another workspace than the installation's. The facts and the rule: docs/identity-and-edits.md.
"""

from __future__ import annotations

from actions.models import Actor, Membership

STRANGER = (
    "You are not a member of this workspace (your account belongs to another organisation), so you "
    "cannot {verb} TiKV actions here. Ask someone of this workspace."
)
OTHER_WORKSPACE = (
    "This request came from another workspace than the one tikv-chatops is installed in, so it cannot "
    "{verb} anything. Use the bot from its own workspace."
)


def _same(home_team: str, home_enterprise: str, team: str, enterprise: str) -> bool:
    """A team id equal to the installation's, or (on Enterprise Grid) the installation's organisation."""
    if team and team == home_team:
        return True
    return bool(home_enterprise) and enterprise == home_enterprise


def membership_refusal(actor: Actor, *, verb: str) -> str | None:
    """Why ``actor`` may not ``verb`` here, or None. Actors not from a workspace (the agent) pass."""
    facts: Membership | None = actor.membership
    if facts is None or actor.is_agent:
        return None
    if not _same(
        facts.home_team_id, facts.home_enterprise_id, facts.request_team_id, facts.request_enterprise_id
    ):
        return OTHER_WORKSPACE.format(verb=verb)
    if facts.is_stranger or not _same(
        facts.home_team_id, facts.home_enterprise_id, facts.user_team_id, facts.user_enterprise_id
    ):
        return STRANGER.format(verb=verb)
    return None
