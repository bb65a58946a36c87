"""deploy/kubernetes/ agrees with the bot: every variable it sets is one the bot reads, the probes hit the
operations listener's paths on its port, the Service reaches the Slack port, and there are at least two
replicas with a disruption budget that keeps one of them up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.ops_server import LIVE_PATH, READY_PATH
from bot.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
SETTINGS = {name.upper() for name in Settings.model_fields}


def _documents() -> dict[str, dict[str, Any]]:
    """Every manifest, by kind (one of each)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(DEPLOY.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") != "Kustomization":
                assert doc["kind"] not in found, f"two {doc['kind']} manifests"
                found[doc["kind"]] = doc
    return found


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return _documents()


def _container(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    [container] = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item for item in container.get("env", [])}


def _port(container: dict[str, Any], port: int | str) -> int:
    """A probe's or Service's port, resolved through the container's named ports."""
    if isinstance(port, int):
        return port
    [number] = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


def test_the_manifests_hold_a_deployment_service_secret_and_disruption_budget(
    docs: dict[str, dict[str, Any]],
) -> None:
    assert {"Deployment", "Service", "Secret", "PodDisruptionBudget"} <= set(docs)
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))
    for resource in kustomization["resources"]:
        # secret.yaml is the filled-in copy of the template, kept out of version control.
        assert (DEPLOY / resource).exists() or resource == "secret.yaml", resource


def test_every_variable_the_manifests_set_is_a_setting_the_bot_reads(docs: dict[str, dict[str, Any]]) -> None:
    container = _container(docs)
    env = _env(container)
    assert set(env) <= SETTINGS, set(env) - SETTINGS
    secret = docs["Secret"]
    [source] = container["envFrom"]
    assert source["secretRef"]["name"] == secret["metadata"]["name"]
    assert set(secret["stringData"]) <= SETTINGS, set(secret["stringData"]) - SETTINGS
    # Values the bot would refuse fail here rather than in a crash-looping pod.
    plain = {name: item["value"] for name, item in env.items() if "value" in item}
    Settings.load({**plain, **secret["stringData"]})
    # Replicas share PostgreSQL, and each has its own id (the pod's name).
    assert secret["stringData"]["TIKV_CHATOPS_DB"].startswith("postgresql://")
    assert env["REPLICA_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_the_probes_hit_livez_and_readyz_on_the_operations_port(docs: dict[str, dict[str, Any]]) -> None:
    container = _container(docs)
    env = _env(container)
    ops_port = int(env["METRICS_PORT"]["value"]) if "METRICS_PORT" in env else Settings().metrics_port
    for probe, path in (
        ("livenessProbe", LIVE_PATH),
        ("readinessProbe", READY_PATH),
        ("startupProbe", LIVE_PATH),
    ):
        get = container[probe]["httpGet"]
        assert get["path"] == path and _port(container, get["port"]) == ops_port, probe


def test_the_service_sends_slack_to_the_slack_port(docs: dict[str, dict[str, Any]]) -> None:
    container = _container(docs)
    env = _env(container)
    slack_port = int(env["PORT"]["value"]) if "PORT" in env else Settings().port
    [port] = docs["Service"]["spec"]["ports"]
    assert _port(container, port["targetPort"]) == slack_port
    pod_labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert docs["Service"]["spec"]["selector"].items() <= pod_labels.items()


def test_at_least_two_replicas_and_a_budget_that_keeps_one_up(docs: dict[str, dict[str, Any]]) -> None:
    deployment = docs["Deployment"]
    replicas = deployment["spec"]["replicas"]
    assert replicas >= 2
    pdb = docs["PodDisruptionBudget"]["spec"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    if "minAvailable" in pdb:
        assert 1 <= int(pdb["minAvailable"]) < replicas
    else:
        assert 1 <= int(pdb["maxUnavailable"]) < replicas
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
