"""``ClaudeAdvisor``: asks Claude to rank and explain the findings, with the catalog as its tools.

The only module that imports ``anthropic``. Claude sees the findings (with their evidence and what the
rules would propose) and a cluster summary, and answers with tool calls, one tool per catalog action
the policy lets the agent propose. Each tool call is validated exactly like a person's typed command
(``ActionSpec.validate`` on the values as text); calls naming an unknown action, an unknown finding or
bad parameters are dropped and logged. Nothing Claude says runs without a person's approval: its
suggestions become proposals like any other.

anthropic >= 1.0 sends its requests through ``httpx2`` (a separate package from ``httpx``), so tests
hand it ``http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler))``.

Failures (timeout, rate limit, API error, unreachable) never raise: ``advise`` returns ``Advice``
with ``unavailable`` set, and the loop proposes the rules' actions with that reason on the card.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib import resources
from typing import Any

import anthropic
import httpx2
from anthropic.types import Message, ToolParam

from actions.catalog import CATALOG, ActionSpec, ParamSpec, spec_for, validate_params
from actions.errors import InvalidRequest
from actions.models import ActionType
from agent import diagnosis
from agent.advice import Advice, AdvisedAction
from agent.findings import Finding
from agent.observe import Observation

log = logging.getLogger(__name__)

DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_TOKENS = 2048
# Fields every tool takes besides the action's own parameters.
FINDING, RATIONALE, CONFIDENCE = "finding", "rationale", "confidence"


PROMPT_VERSION_PREFIX = "Prompt version: "


def load_prompt() -> str:
    """The system prompt, kept in ``agent/prompts/advisor.md`` so it is reviewed like code."""
    return resources.files("agent.prompts").joinpath("advisor.md").read_text(encoding="utf-8")


def prompt_version(prompt: str) -> str:
    """The version the prompt file states on its first line (``Prompt version: advisor/2``)."""
    first = prompt.splitlines()[0] if prompt else ""
    if not first.startswith(PROMPT_VERSION_PREFIX):
        raise ValueError("agent/prompts/advisor.md must start with 'Prompt version: <version>'")
    return first.removeprefix(PROMPT_VERSION_PREFIX).strip()


# --- the catalog as tools ------------------------------------------------------------------------


def _json_type(param: ParamSpec) -> dict[str, Any]:
    """The JSON schema of one parameter, from its catalog spec.

    The spec carries a parser, not a type, so a scalar's type is read off what the parser makes of
    ``"1"``: ids parse to int, rates to float; a parser that refuses it takes text.
    """
    if param.many:
        return {"type": "array", "items": {"type": "string"}}
    if param.choices:
        return {"type": "string", "enum": list(param.choices)}
    try:
        sample = param.parser("1")
    except ValueError:
        return {"type": "string"}
    if isinstance(sample, bool) or isinstance(sample, str | list):
        return {"type": "string"}
    return {"type": "integer", "minimum": 1} if isinstance(sample, int) else {"type": "number"}


def tool_for(spec: ActionSpec, finding_keys: Sequence[str]) -> ToolParam:
    """One tool: the action's parameters plus which finding it addresses, why, and how sure."""
    properties: dict[str, object] = {
        p.name: {**_json_type(p), "description": f"{p.label}: {p.help}"} for p in spec.params
    }
    properties[FINDING] = {"type": "string", "enum": list(finding_keys), "description": "The finding's key."}
    properties[RATIONALE] = {
        "type": "string",
        "description": "Why, in two or three sentences for the on-call engineer, citing the numbers used.",
    }
    properties[CONFIDENCE] = {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "How sure you are that this action is right and safe now (0 to 1).",
    }
    required = [p.name for p in spec.params if not p.optional] + [FINDING, RATIONALE, CONFIDENCE]
    return {
        "name": spec.action.value,
        "description": f"{spec.summary} Usage: /tikv {spec.usage()} (e.g. /tikv {spec.example}). "
        f"Risk tier: {spec.tier.value}. Proposes it for approval; never runs it.",
        "input_schema": {"type": "object", "properties": properties, "required": required},
    }


def tools_for(allowed: Sequence[ActionType], finding_keys: Sequence[str]) -> list[ToolParam]:
    return [tool_for(CATALOG[action], finding_keys) for action in allowed]


# --- what Claude is shown ------------------------------------------------------------------------


def _finding_json(finding: Finding) -> dict[str, object]:
    return {
        "key": finding.key,
        "title": finding.title,
        "evidence": [{"what": e.label, "value": e.value, "read_from": e.source} for e in finding.evidence],
        "note": finding.note,
        "rules_would_propose": [
            {"action": p.action.value, "params": dict(p.params), "why": p.rationale}
            for p in finding.proposals
        ],
    }


def diagnosis_summary(obs: Observation) -> dict[str, list[str]]:
    """What blocks PD, per kind of work it would do by itself (empty lists: nothing does)."""
    return {
        work.value: [b.reason for b in diagnosis.blockers(work, obs.schedulers, obs.settings)]
        for work in diagnosis.Work
    }


def cluster_summary(obs: Observation) -> dict[str, object]:
    """The cluster in a few hundred tokens: stores, schedulers, how many regions each check flags."""
    evicted = set(obs.schedulers.evict_leader_store_ids) if obs.schedulers else set()
    return {
        "stores": [
            {
                "id": s.id,
                "state": s.state_name,
                "leaders": s.leader_count,
                "regions": s.region_count,
                "used": f"{1 - s.available_ratio:.0%}",
                "leaders_evicted": s.id in evicted,
            }
            for s in obs.stores or ()
        ],
        "schedulers": list(obs.schedulers.names) if obs.schedulers else None,
        "paused_schedulers": list(obs.schedulers.paused) if obs.schedulers else None,
        "flagged_regions": {check.value: len(regions) for check, regions in obs.checks.items()},
        "hot_write_regions": None if obs.hot_write is None else len(obs.hot_write),
        "hot_read_regions": None if obs.hot_read is None else len(obs.hot_read),
        "max_replicas": obs.settings.max_replicas if obs.settings else None,
        "low_space_ratio": obs.settings.low_space_ratio if obs.settings else None,
        "unread": list(obs.errors),
    }


# --- what Claude answers -------------------------------------------------------------------------


def _as_text(value: object) -> str:
    """A tool-call value as a person would type it, so the catalog's parsers judge it the same way."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return " ".join(_as_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _confidence(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return min(max(float(value), 0.0), 1.0)


def parse_tool_call(
    name: str, arguments: object, *, finding_keys: Sequence[str], allowed: Sequence[ActionType]
) -> AdvisedAction:
    """One tool call as a validated suggestion; ``InvalidRequest`` says why it cannot be one."""
    action = spec_for(name).action  # InvalidRequest for an unknown action, as for a person
    if action not in allowed:
        raise InvalidRequest(f"{name} is not an action the agent may propose")
    if not isinstance(arguments, Mapping):
        raise InvalidRequest(f"{name}: the input is not an object")
    fields = dict(arguments)
    finding = fields.pop(FINDING, None)
    rationale = fields.pop(RATIONALE, None)
    confidence = _confidence(fields.pop(CONFIDENCE, None))
    if finding not in finding_keys:
        raise InvalidRequest(f"{name}: unknown finding {finding!r}")
    if not isinstance(rationale, str) or not rationale.strip():
        raise InvalidRequest(f"{name}: no rationale")
    params = validate_params(action, {k: _as_text(v) for k, v in fields.items()})
    return AdvisedAction(
        finding_key=str(finding),
        action=action,
        params=params,
        rationale=rationale.strip(),
        confidence=confidence,
    )


def read_reply(message: Message, *, finding_keys: Sequence[str], allowed: Sequence[ActionType]) -> Advice:
    """Claude's message as ``Advice``: the valid tool calls, the dropped ones with reasons, its text."""
    actions: list[AdvisedAction] = []
    dropped: list[str] = []
    texts: list[str] = []
    for block in message.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            try:
                actions.append(
                    parse_tool_call(block.name, block.input, finding_keys=finding_keys, allowed=allowed)
                )
            except InvalidRequest as exc:
                log.warning("advisor: dropped Claude's %s call: %s", block.name, exc)
                dropped.append(f"{block.name}: {exc}")
    return Advice(actions=tuple(actions), dropped=tuple(dropped), summary="\n".join(texts).strip())


def unavailable_reason(exc: anthropic.AnthropicError) -> str:
    """Why Claude could not be asked, in a few words for the card."""
    if isinstance(exc, anthropic.RateLimitError):
        return "rate limited"
    if isinstance(exc, anthropic.APITimeoutError):
        return "timed out"
    if isinstance(exc, anthropic.APIConnectionError):
        return "unreachable"
    if isinstance(exc, anthropic.APIStatusError):
        return f"API error {exc.status_code}"
    return "API error"


class ClaudeAdvisor:
    """The ``agent.advice.Advisor`` backed by Claude's Messages API (tool use)."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        http_client: httpx2.AsyncClient | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        self.model = model
        self._max_tokens = max_tokens
        self._prompt = load_prompt()
        self.prompt_version = prompt_version(self._prompt)
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            max_retries=max_retries,
        )

    @property
    def source(self) -> str:
        """What the cards and the audit rows name as the advisor."""
        return f"{self.model}, prompt {self.prompt_version}"

    async def aclose(self) -> None:
        await self._client.close()

    async def advise(
        self, findings: Sequence[Finding], observation: Observation, *, allowed: Sequence[ActionType]
    ) -> Advice:
        keys = [f.key for f in findings]
        question = {
            "findings": [_finding_json(f) for f in findings],
            "diagnosis": diagnosis_summary(observation),
            "cluster": cluster_summary(observation),
        }
        try:
            message = await self._client.messages.create(
                model=self.model,
                max_tokens=self._max_tokens,
                system=self._prompt,
                tools=tools_for(allowed, keys),
                tool_choice={"type": "auto"},
                messages=[{"role": "user", "content": json.dumps(question, indent=1)}],
            )
        except anthropic.AnthropicError as exc:
            reason = unavailable_reason(exc)
            log.warning("advisor: Claude unavailable (%s): %s", reason, exc)
            return Advice(unavailable=reason, source=self.source)
        advice = replace(read_reply(message, finding_keys=keys, allowed=allowed), source=self.source)
        log.info(
            "advisor: Claude suggested %d action(s), %d dropped (stop: %s)",
            len(advice.actions),
            len(advice.dropped),
            message.stop_reason,
        )
        return advice


def make_advisor(api_key: str | None, model: str | None = None, **options: Any) -> ClaudeAdvisor | None:
    """The advisor for the composition root: ``None`` without ``ANTHROPIC_API_KEY`` (rules only)."""
    if not api_key:
        return None
    return ClaudeAdvisor(api_key=api_key, model=model or DEFAULT_MODEL, **options)
