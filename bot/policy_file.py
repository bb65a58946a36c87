"""Reading the policy file (YAML) strictly, and ``tikv-chatops policy check [FILE]``.

YAML 1.1 reads ``on``, ``off``, ``yes`` and ``no`` as booleans; here only ``true`` and ``false`` are,
so ``requester_may_approve: on`` reaches the policy as the text it is and is refused, naming the key,
instead of quietly meaning true.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from actions.policy import POLICY_ENV, Policy, PolicyError


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose booleans are only ``true`` and ``false`` (as in YAML 1.2)."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_policy(path: Path | None) -> Policy:
    """The policy in ``path``, or the defaults when there is none; ``PolicyError`` names what is wrong."""
    if path is None:
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        data: Any = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML ({exc})") from None
    if data is not None and not isinstance(data, dict):
        raise PolicyError(f"{path}: the policy file must be a mapping of settings")
    try:
        return Policy.from_mapping(data)
    except PolicyError as exc:
        raise PolicyError(f"{path}: " + str(exc).replace("\n", f"\n{path}: ")) from None


def check_main(argv: Sequence[str]) -> int:
    """``tikv-chatops policy check [FILE]``: print the effective policy; 1 when the file is wrong."""
    from bot.settings import Settings

    parser = argparse.ArgumentParser(
        prog="tikv-chatops policy check",
        description=f"Print the effective approval policy (FILE, else ${POLICY_ENV}, else the defaults).",
    )
    parser.add_argument("file", nargs="?", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings.load()
    path = args.file if args.file is not None else settings.tikv_chatops_policy
    try:
        policy = read_policy(path)
    except PolicyError as exc:
        print(f"policy error: {exc}", file=sys.stderr)
        return 1
    if settings.has_slack_credentials:
        policy = policy.fail_closed()
        mode = "real Slack credentials: tiers for approvers only fail closed without approvers"
    else:
        mode = "no Slack credentials (playground): the friendly defaults apply"
    print(f"policy: {path or 'defaults (no file)'}")
    print(f"mode: {mode}")
    for line in policy.describe():
        print(line)
    for gap in policy.gaps():
        print(f"warning: {gap}")
    return 0
