"""``StoreTickets``: the ticket (the agent's finding) an agent's proposal answers, for its card.

A ticket's key and title never change once it is opened, so each is read once and kept; the card of
a proposal made while its finding was open can be rewritten after the finding closed.
"""

from __future__ import annotations

import logging

from actions.models import Ticket
from actions.ports import ProposalStore

logger = logging.getLogger(__name__)


class StoreTickets:
    """Looks tickets up among the store's open tickets and remembers them."""

    def __init__(self, store: ProposalStore) -> None:
        self._store = store
        self._known: dict[int, Ticket] = {}

    async def ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket, or None when it is unknown or the store cannot say (the card then omits it)."""
        known = self._known.get(ticket_id)
        if known is not None:
            return known
        try:
            tickets = await self._store.list_open_tickets()
        except Exception:
            # A card without its finding line is still a correct card.
            logger.warning("reading the open tickets for a card failed", exc_info=True)
            return None
        self._known.update((t.id, t) for t in tickets)
        return self._known.get(ticket_id)
