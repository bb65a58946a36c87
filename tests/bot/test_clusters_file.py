"""The clusters file read strictly, each cluster's policy merged over the global one, and
``tikv-chatops clusters check``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from actions.models import Tier
from actions.policy import Policy
from bot.cli import main as cli_main
from bot.clusters_file import ClustersError, merge_policy, read_clusters

GOOD = """
default_cluster: prod
clusters:
  staging:
    pd: http://pd-staging:2379/
    channel: C0STAGING
  prod:
    pd: [https://pd-1.prod:2379, https://pd-2.prod:2379]
    tls: {{ca: {ca}}}
    channel: C0PROD
    policy:
      approvers: {{users: [U0ALICE]}}
      tiers:
        reversible: {{approvals: 2}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clusters.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _good(tmp_path: Path) -> Path:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here", encoding="utf-8")
    return _write(tmp_path, GOOD.format(ca=ca))


def test_a_good_file_gives_each_cluster_its_pd_tls_channel_and_merged_policy(tmp_path: Path) -> None:
    base = Policy.from_mapping({"approvers": {"groups": ["S0OPS"]}, "tiers": {"reversible": {"ttl": "2h"}}})
    config = read_clusters(_good(tmp_path), base)
    assert config.names == ("staging", "prod") and config.default_cluster == "prod"
    assert config.channel_defaults() == {"C0STAGING": "staging", "C0PROD": "prod"}
    staging, prod = config.clusters
    assert staging.pd_endpoints == ("http://pd-staging:2379",)
    assert prod.pd_endpoints == ("https://pd-1.prod:2379", "https://pd-2.prod:2379")
    assert prod.tls.ca == tmp_path / "ca.pem" and prod.tls.cert is None
    assert staging.policy == base  # no overrides: the global policy as it is
    # prod replaces the approvers and changes one key of one tier; the rest is the global policy's.
    assert prod.policy.approvers.users == {"U0ALICE"} and prod.policy.approvers.groups == frozenset()
    reversible = prod.policy.tier_policy(Tier.REVERSIBLE)
    assert reversible.approvals == 2 and reversible.ttl == timedelta(hours=2)
    assert prod.policy.tier_policy(Tier.STRUCTURAL) == base.tier_policy(Tier.STRUCTURAL)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("clusters:\n  prod:\n    pd: pd-1:2379\n", "clusters.prod.pd"),
        ("clusters:\n  prod:\n    pd: []\n", "clusters.prod.pd"),
        ("clusters:\n  prod:\n    channel: C0PROD\n", "clusters.prod.pd: missing"),
        (
            "clusters:\n  prod:\n    pd: http://pd:2379\n    pdd: http://x:1\n",
            "clusters.prod.pdd: unknown key",
        ),
        ("clusters:\n  prod:\n    pd: http://pd:2379\n    channel: 12\n", "clusters.prod.channel"),
        ("clusters:\n  'bad name':\n    pd: http://pd:2379\n", "clusters.bad name"),
        (
            "clusters:\n  prod:\n    pd: http://pd:2379\n    tls: {cert: /nope.pem}\n",
            "clusters.prod.tls.cert",
        ),
        ("clusters:\n  prod:\n    pd: http://pd:2379\n    tls: {ca: /x, crt: /y}\n", "clusters.prod.tls.crt"),
        (
            "clusters:\n  prod:\n    pd: http://pd:2379\n    policy:\n"
            "      tiers: {config: {requester_may_approve: on}}\n",
            "clusters.prod.policy.tiers.config.requester_may_approve",
        ),
        (
            "clusters:\n  prod:\n    pd: http://pd:2379\n    policy: {aprovers: {users: [U0ALICE]}}\n",
            "clusters.prod.policy.aprovers",
        ),
        (
            "clusters:\n  prod:\n    pd: http://pd:2379\n    policy:\n      tiers: {risky: {approvals: 2}}\n",
            "clusters.prod.policy.tiers",
        ),
        (
            "clusters:\n  a: {pd: 'http://a:1', channel: C0X}\n  b: {pd: 'http://b:1', channel: C0X}\n",
            "clusters.b.channel: C0X is already the default channel of a",
        ),
        ("default_cluster: qa\nclusters:\n  prod: {pd: 'http://pd:1'}\n", "default_cluster: 'qa'"),
        ("cluster:\n  prod: {pd: 'http://pd:1'}\n", "cluster: unknown key"),
        ("clusters: {}\n", "clusters: a mapping"),
        ("- prod\n", "must be a mapping"),
        ("clusters: [prod\n", "not valid YAML"),
    ],
)
def test_a_wrong_file_is_an_error_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ClustersError) as caught:
        read_clusters(path, Policy())
    assert key in str(caught.value)
    assert str(path) in str(caught.value)


def test_every_mistake_is_named_at_once(tmp_path: Path) -> None:
    text = "clusters:\n  a: {pd: 'nope'}\n  b: {channel: C0B}\n"
    with pytest.raises(ClustersError) as caught:
        read_clusters(_write(tmp_path, text), Policy())
    assert "clusters.a.pd" in str(caught.value) and "clusters.b.pd: missing" in str(caught.value)


def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ClustersError, match="cannot be read"):
        read_clusters(tmp_path / "missing.yaml", Policy())


def test_a_tier_override_keeps_the_keys_it_does_not_name() -> None:
    base = Policy.from_mapping({"tiers": {"structural": {"approvals": 3, "ttl": "10m"}}})
    merged = merge_policy(base, {"tiers": {"structural": {"ttl": "20m"}}})
    structural = merged.tier_policy(Tier.STRUCTURAL)
    assert structural.approvals == 3 and structural.ttl == timedelta(minutes=20)
    assert structural.approvers_only is True  # the default, kept through the merge


def test_clusters_check_prints_each_cluster_or_names_the_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TIKV_CHATOPS_POLICY", "TIKV_CHATOPS_CLUSTERS"):
        monkeypatch.delenv(name, raising=False)
    assert cli_main(["clusters", "check", str(_good(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "cluster staging" in out and "cluster prod" in out
    assert "pd: https://pd-1.prod:2379, https://pd-2.prod:2379" in out and "channel: C0PROD" in out
    assert "default cluster (channels that are no cluster's default): prod" in out

    bad = _write(tmp_path, "clusters:\n  prod: {pd: 'pd:2379'}\n")
    assert cli_main(["clusters", "check", str(bad)]) == 1
    assert "clusters.prod.pd" in capsys.readouterr().err

    assert cli_main(["clusters", "check"]) == 0
    assert "no file" in capsys.readouterr().out
    assert cli_main(["clusters"]) == 2
