"""``ActionSpec``: everything the bot knows about one action, in one place.

Parsing (words typed after ``/tikv``, or the Edit modal's fields), the sentence a card shows, the exact PD
request, the ``pd-ctl`` line, the inverse for Undo, the preflight checks, the verification afterwards,
the operator PD names for it, the parameters an edit may not change and what the risk assessment reads
all come from the spec. A new action is one ``ActionSpec``; no other module lists actions.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from actions.checks.base import Check
from actions.errors import InvalidRequest
from actions.models import ActionType, ParamValue, PDRequest, Tier
from actions.params import InvalidParams, Params, ParamSpec
from actions.verifiers import Verifier

Inverse = tuple[ActionType, dict[str, ParamValue]]
Refine = Callable[[dict[str, ParamValue]], dict[str, str]]
"""Cross-field validation: may normalise values in place; returns field -> message for what is wrong."""
Positional = Callable[["ActionSpec", Sequence[str]], dict[str, str]]
"""Maps the words after the action name to raw field values (the default is one word per parameter)."""


class RiskInputs(enum.StrEnum):
    """What the risk assessment (``actions.risk``) reads to raise an action's tier above its base."""

    NONE = "none"  # the catalog's tier is the tier
    CONFIG = "config"  # the config key's class and the value asked for
    STORE = "store"  # it takes leaders or data from a store: riskier while the cluster is degraded


@dataclass(frozen=True, slots=True)
class HelpEntry:
    """One line of ``/tikv help``."""

    action: ActionType
    usage: str
    summary: str
    example: str
    tier: Tier
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSpec:
    """One catalog action. ``words[0]`` is what people type; the other words are accepted aliases.

    ``operator`` is the ``desc`` PD gives the admin operator the action creates (``admin-<kind>``,
    docs/pd.md), ``None`` for actions that create none; the executor follows that operator and takes no
    other (a scheduler's on the same region) for it. ``subject`` names the parameters that say what the
    action is about: an edit may not change them (``actions.edits``). ``drains``: PD carries it out over
    hours, and the executor follows the store until it is a Tombstone.
    """

    action: ActionType
    words: tuple[str, ...]
    summary: str
    params: tuple[ParamSpec, ...]
    tier: Tier
    example: str
    subject: tuple[str, ...]
    verify_fn: Verifier
    checks: tuple[Check, ...]
    describe_fn: Callable[[Params], str]
    request_fn: Callable[[Params], PDRequest]
    pd_ctl_fn: Callable[[Params], str]
    inverse_fn: Callable[[Params, Mapping[str, Any]], Inverse | None] | None = None
    refine: Refine | None = None
    positional: Positional | None = None
    usage_text: str | None = None
    operator: str | None = None
    operator_region: str = "region_id"  # the parameter naming the region whose operator to follow
    risk_inputs: RiskInputs = RiskInputs.NONE
    drains: bool = False

    @property
    def word(self) -> str:
        return self.words[0]

    @property
    def creates_operator(self) -> bool:
        """Whether PD carries the action out as an operator the executor follows."""
        return self.operator is not None

    def usage(self) -> str:
        """``transfer-leader REGION STORE`` (without ``/tikv``)."""
        if self.usage_text is not None:
            return self.usage_text
        return " ".join([self.word, *(p.usage() for p in self.params)])

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.word} has no parameter {name}")

    def describe(self, params: Params) -> str:
        """The action in words: ``Move the leader of region 12 to store 3``."""
        return self.describe_fn(params)

    def pd_request(self, params: Params) -> PDRequest:
        """The exact request PD receives (path, query and body with PD's field names and types)."""
        return self.request_fn(params)

    def pd_ctl(self, params: Params) -> str:
        """The equivalent ``pd-ctl`` command line."""
        return self.pd_ctl_fn(params)

    def inverse(self, params: Params, facts: Mapping[str, Any]) -> Inverse | None:
        """The action that undoes this one, from the preflight ``facts`` it ran with; ``None`` if none."""
        return self.inverse_fn(params, facts) if self.inverse_fn is not None else None

    def raw_params(self, params: Params) -> dict[str, str]:
        """``params`` as a person would type them, field by field (pre-fills the Edit modal)."""
        return {p.name: p.format(params[p.name]) for p in self.params if p.name in params}

    def validate(self, raw: Mapping[str, str]) -> dict[str, ParamValue]:
        """Parse every field of ``raw``; ``InvalidParams`` lists every field that is wrong."""
        usage = self.usage()
        errors: dict[str, str] = {}
        values: dict[str, ParamValue] = {}
        known = {p.name for p in self.params}
        for name in raw:
            if name not in known:
                errors[name] = f"{self.word} has no parameter {name} (it takes {', '.join(sorted(known))})"
        for spec in self.params:
            text = (raw.get(spec.name) or "").strip()
            if not text:
                if not spec.optional:
                    errors[spec.name] = f"{spec.label.lower()} is required"
                elif spec.default is not None:
                    values[spec.name] = spec.default
                continue
            try:
                values[spec.name] = spec.parse(text, usage=usage)
            except InvalidRequest as exc:
                errors[spec.name] = str(exc)
        if not errors and self.refine is not None:
            errors.update(self.refine(values))
        if errors:
            raise InvalidParams(errors, usage=usage)
        return values

    def parse_words(self, args: Sequence[str]) -> dict[str, ParamValue]:
        """Parse the words typed after the action name."""
        split = self.positional or one_word_per_param
        return self.validate(split(self, args))


def one_word_per_param(spec: ActionSpec, args: Sequence[str]) -> dict[str, str]:
    """Arguments in parameter order; optional ones may be left off the end; ``many`` takes the rest."""
    required = [p for p in spec.params if not p.optional]
    many = spec.params[-1].many if spec.params else False
    too_few = len(args) < len(required)
    too_many = not many and len(args) > len(spec.params)
    if too_few or too_many:
        raise arity_error(spec, args)
    raw: dict[str, str] = {}
    for index, param in enumerate(spec.params):
        if index >= len(args):
            break
        raw[param.name] = " ".join(args[index:]) if param.many else args[index]
    return raw


def arity_error(spec: ActionSpec, args: Sequence[str]) -> InvalidRequest:
    """``transfer-leader needs REGION STORE (2 arguments), got 1 (12). Example: transfer-leader 12 3``."""
    required = [p for p in spec.params if not p.optional]
    wanted = spec.usage().removeprefix(spec.word).strip() or "no arguments"
    if len(required) == len(spec.params):
        count = f"{len(required)} argument{'s' * (len(required) != 1)}"
    else:
        count = f"{len(required)} to {len(spec.params)} arguments"
    got = f"got {len(args)}" + (f" ({' '.join(args)})" if args else "")
    return InvalidRequest(
        f"{spec.word} needs {wanted} ({count}), {got}. Example: {spec.example}",
        usage=spec.usage(),
    )
