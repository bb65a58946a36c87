"""Reading the clusters file (YAML) strictly, and ``tikv-chatops clusters check [FILE]``.

One bot can operate several clusters. ``TIKV_CHATOPS_CLUSTERS`` names a file that lists them::

    default_cluster: staging          # optional: the cluster of a channel that is no cluster's default
    clusters:
      staging:
        pd: http://pd-staging:2379    # one URL, or a list of them
        channel: C0STAGING            # commands typed here go to staging; its agent's cards go here
      prod:
        pd: [https://pd-1.prod:2379, https://pd-2.prod:2379]
        tls: {ca: /etc/pd/ca.pem, cert: /etc/pd/client.pem, key: /etc/pd/client-key.pem}
        channel: C0PROD
        policy:                       # merged over the global policy file, key by key
          approvers: {users: [U0ALICE, U0BOB]}
          tiers: {structural: {approvals: 2}}

The file is read like the policy file (``bot.policy_file``): YAML whose only booleans are ``true`` and
``false``, no unknown keys, every mistake named with its path (``clusters.prod.pd: …``), and a wrong
file stops the start before anything is opened. Without the file the bot serves the one cluster named
by ``TIKV_CHATOPS_CLUSTER`` at ``PD_URL`` (or the embedded simulator), as it always did.

A cluster's ``policy`` replaces the global policy's top-level keys it names, except ``tiers``, which is
merged tier by tier (and each tier key by key): ``tiers: {structural: {approvals: 2}}`` changes one
number and keeps the rest of the global policy. See docs/multi-cluster.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions.policy import Policy, PolicyError
from bot.policy_file import _StrictLoader, read_policy

CLUSTERS_ENV = "TIKV_CHATOPS_CLUSTERS"

# What ``-c NAME`` can carry and a Prometheus label shows as it is.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_TOP_KEYS = frozenset({"clusters", "default_cluster"})
_CLUSTER_KEYS = frozenset({"pd", "tls", "channel", "policy"})
_TLS_KEYS = frozenset({"ca", "cert", "key"})


class ClustersError(ValueError):
    """The clusters file is wrong; the message names every key that is, one per line."""


@dataclass(frozen=True)
class ClusterTLS:
    """Client TLS towards one cluster's PD; any of them may be unset."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True)
class ClusterSpec:
    """One cluster of the file, its policy already merged over the global one."""

    name: str
    pd_endpoints: tuple[str, ...]
    policy: Policy
    tls: ClusterTLS = field(default_factory=ClusterTLS)
    channel: str | None = None


@dataclass(frozen=True)
class ClustersConfig:
    """Every cluster the bot operates, in the file's order, and the cluster of an unlisted channel."""

    clusters: tuple[ClusterSpec, ...]
    default_cluster: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.clusters)

    def channel_defaults(self) -> dict[str, str]:
        """Channel id -> the cluster whose default channel it is."""
        return {c.channel: c.name for c in self.clusters if c.channel is not None}


def merge_policy(base: Policy, override: Mapping[str, Any]) -> Policy:
    """``base`` with ``override`` (a policy file's mapping) on top: top-level keys are replaced,
    ``tiers`` merged per tier and per key. ``PolicyError`` names what is wrong in ``override``."""
    merged: dict[str, Any] = base.model_dump(exclude={"closed_without_approvers"})
    for key, value in override.items():
        if key == "tiers" and isinstance(value, Mapping):
            tiers: dict[Any, Any] = {str(t): dict(s) for t, s in merged["tiers"].items()}
            for tier, settings in value.items():
                known = tiers.get(str(tier))
                tiers[str(tier)] = (
                    known | dict(settings) if known and isinstance(settings, Mapping) else settings
                )
            merged["tiers"] = tiers
        else:
            merged[str(key)] = value
    return Policy.from_mapping(merged)


def _endpoints(value: object, errors: list[str], where: str) -> tuple[str, ...]:
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, list) or not urls:
        errors.append(f"{where}: one PD URL or a list of them, e.g. http://pd:2379 (got {value!r})")
        return ()
    found = []
    for url in urls:
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url.strip()):
            errors.append(f"{where}: {url!r} is not a PD URL; write it as http://host:2379 or https://…")
            continue
        found.append(url.strip().rstrip("/"))
    return tuple(found)


def _tls(value: object, errors: list[str], where: str) -> ClusterTLS:
    if value is None:
        return ClusterTLS()
    if not isinstance(value, dict):
        errors.append(f"{where}: a mapping with ca, cert and key (paths)")
        return ClusterTLS()
    for key in sorted(set(map(str, value)) - _TLS_KEYS):
        errors.append(f"{where}.{key}: unknown key; the keys are ca, cert, key")
    paths: dict[str, Path | None] = {}
    for key in sorted(_TLS_KEYS):
        raw = value.get(key)
        if raw is None:
            paths[key] = None
        elif not isinstance(raw, str) or not raw.strip():
            errors.append(f"{where}.{key}: a file path (got {raw!r})")
            paths[key] = None
        elif not Path(raw).is_file():
            errors.append(f"{where}.{key}: {raw} is not a file that can be read")
            paths[key] = None
        else:
            paths[key] = Path(raw)
    if (value.get("cert") is None) != (value.get("key") is None):
        errors.append(f"{where}: cert and key go together; give both or neither")
    return ClusterTLS(ca=paths["ca"], cert=paths["cert"], key=paths["key"])


def _cluster(name: str, body: object, base: Policy, errors: list[str]) -> ClusterSpec | None:
    where = f"clusters.{name}"
    if not _NAME.match(name):
        errors.append(f"{where}: a cluster name is letters, digits, '.', '_' or '-' (at most 63)")
    if not isinstance(body, dict):
        errors.append(f"{where}: a mapping with pd (required), tls, channel and policy")
        return None
    for key in sorted(set(map(str, body)) - _CLUSTER_KEYS):
        errors.append(f"{where}.{key}: unknown key; the keys are channel, pd, policy, tls")
    if "pd" not in body:
        errors.append(f"{where}.pd: missing; every cluster names its PD endpoints")
    endpoints = _endpoints(body.get("pd"), errors, f"{where}.pd") if "pd" in body else ()
    tls = _tls(body.get("tls"), errors, f"{where}.tls")
    channel = body.get("channel")
    if channel is not None and (not isinstance(channel, str) or not channel.strip()):
        errors.append(
            f"{where}.channel: a Slack channel id written as text, e.g. C0123ABCD (got {channel!r})"
        )
        channel = None
    overrides = body.get("policy")
    policy = base
    if overrides is not None and not isinstance(overrides, dict):
        errors.append(f"{where}.policy: a mapping of policy settings, as in the policy file")
    elif overrides:
        try:
            policy = merge_policy(base, overrides)
        except PolicyError as exc:
            errors.extend(f"{where}.policy.{line}" for line in str(exc).splitlines())
    if not endpoints:
        return None
    return ClusterSpec(
        name=name,
        pd_endpoints=endpoints,
        policy=policy,
        tls=tls,
        channel=channel.strip() if isinstance(channel, str) else None,
    )


def parse_clusters(data: object, base: Policy) -> ClustersConfig:
    """The clusters of a parsed file; ``ClustersError`` names every mistake (nothing is half-read)."""
    if not isinstance(data, dict):
        raise ClustersError("the clusters file must be a mapping with a `clusters` key")
    errors = [
        f"{key}: unknown key; the keys are clusters, default_cluster"
        for key in sorted(set(map(str, data)) - _TOP_KEYS)
    ]
    listed = data.get("clusters")
    if not isinstance(listed, dict) or not listed:
        errors.append("clusters: a mapping of cluster name -> its settings, with at least one cluster")
        raise ClustersError("\n".join(errors))
    specs = [_cluster(str(name), body, base, errors) for name, body in listed.items()]
    clusters = tuple(spec for spec in specs if spec is not None)
    owners: dict[str, str] = {}
    for spec in clusters:
        if spec.channel is None:
            continue
        if spec.channel in owners:
            errors.append(
                f"clusters.{spec.name}.channel: {spec.channel} is already the default channel of "
                f"{owners[spec.channel]}; a channel has one default cluster"
            )
        owners.setdefault(spec.channel, spec.name)
    default = data.get("default_cluster", next(iter(map(str, listed)), ""))
    if not isinstance(default, str) or default not in listed:
        errors.append(
            f"default_cluster: {default!r} is not one of the clusters ({', '.join(map(str, listed))})"
        )
    if errors:
        raise ClustersError("\n".join(errors))
    return ClustersConfig(clusters=clusters, default_cluster=str(default))


def read_clusters(path: Path, base: Policy) -> ClustersConfig:
    """The clusters in ``path``, each policy merged over ``base``; ``ClustersError`` says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClustersError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        data: Any = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise ClustersError(f"{path}: not valid YAML ({exc})") from None
    try:
        return parse_clusters(data, base)
    except ClustersError as exc:
        raise ClustersError(f"{path}: " + str(exc).replace("\n", f"\n{path}: ")) from None


def check_main(argv: Sequence[str]) -> int:
    """``tikv-chatops clusters check [FILE]``: print the clusters and their policies; 1 when wrong."""
    from bot.settings import Settings

    parser = argparse.ArgumentParser(
        prog="tikv-chatops clusters check",
        description=f"Print the clusters the bot operates (FILE, else ${CLUSTERS_ENV}, else the one).",
    )
    parser.add_argument("file", nargs="?", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings.load()
    path = args.file if args.file is not None else settings.tikv_chatops_clusters
    try:
        base = read_policy(settings.tikv_chatops_policy)
    except PolicyError as exc:
        print(f"policy error: {exc}", file=sys.stderr)
        return 1
    if path is None:
        where = settings.pd_url or "the embedded PD simulator"
        name = settings.tikv_chatops_cluster
        print(f"clusters: no file (${CLUSTERS_ENV} unset): one cluster `{name}` at {where}")
        return 0
    try:
        config = read_clusters(path, base)
    except ClustersError as exc:
        print(f"clusters error: {exc}", file=sys.stderr)
        return 1
    print(f"clusters: {path}")
    print(f"default cluster (channels that are no cluster's default): {config.default_cluster}")
    for spec in config.clusters:
        policy = spec.policy.fail_closed() if settings.has_slack_credentials else spec.policy
        print(f"cluster {spec.name}")
        print(f"  pd: {', '.join(spec.pd_endpoints)}")
        if spec.tls != ClusterTLS():
            print(f"  tls: ca={spec.tls.ca or '-'} cert={spec.tls.cert or '-'} key={spec.tls.key or '-'}")
        print(f"  channel: {spec.channel or '(none: only with -c, or as the default cluster)'}")
        for line in policy.describe():
            print(f"  {line}")
        for gap in policy.gaps():
            print(f"  warning: {gap}")
    return 0
