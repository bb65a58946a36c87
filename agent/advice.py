"""The advisor port: something that ranks and explains findings and suggests catalog actions.

``agent/advisor.py`` implements it with Claude; the loop works the same without one (rules only).
An advisor never raises for its own failures: it returns ``Advice`` with ``unavailable`` set, and the
loop falls back to the rules with that reason on the card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from actions.models import ActionType, ParamValue
from agent.findings import Finding
from agent.observe import Observation


@dataclass(frozen=True, slots=True)
class AdvisedAction:
    """One action the advisor suggests for one finding, already validated against the catalog."""

    finding_key: str
    action: ActionType
    params: Mapping[str, ParamValue]
    rationale: str
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class Advice:
    """What the advisor said; ``unavailable`` holds the reason when it could not be asked."""

    actions: tuple[AdvisedAction, ...] = ()
    dropped: tuple[str, ...] = ()  # suggestions that failed validation, with the reason
    unavailable: str | None = None  # e.g. "rate limited", "timed out", "API error 500"
    summary: str = ""  # the advisor's own words about the cluster, if any
    source: str = ""  # who advised: model and prompt version, e.g. "claude-sonnet-5-5, prompt advisor/2"

    def for_finding(self, key: str) -> tuple[AdvisedAction, ...]:
        return tuple(a for a in self.actions if a.finding_key == key)


class Advisor(Protocol):
    """Ranks and explains findings. Must not raise for its own failures (see ``Advice.unavailable``)."""

    async def advise(
        self, findings: Sequence[Finding], observation: Observation, *, allowed: Sequence[ActionType]
    ) -> Advice:
        """Suggest actions for ``findings``, using only the ``allowed`` catalog actions."""
        ...
