"""The NetworkPolicy as rendered: on in production (both paths), off on laptops; the policy rules pass it and fail a
broken one; checkov's CKV2_K8S_6 (every pod has a NetworkPolicy) passes on production and fails without one."""

from __future__ import annotations

import pytest
import yaml

from tools.base.errors import ToolMissing
from tools.base.profiles import ENVIRONMENTS, Profile
from tools.checks.policy import check_manifests
from tools.cli.checkov import Checkov
from tools.render import render, render_all
from tools.render.manifests import load_text

MEMBERS = {"app.kubernetes.io/name": "zookeeper", "app.kubernetes.io/component": "ensemble"}


def policies(profile: Profile) -> list[dict]:
    """The profile's NetworkPolicies, but the chart's helm test hook (a no-ingress policy for the test pod)."""
    return [d for d in yaml.safe_load_all(render(profile)) if d and d["kind"] == "NetworkPolicy"
            and "helm.sh/hook" not in (d["metadata"].get("annotations") or {})]


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("source", ["overlay", "chart"])
def test_only_production_has_a_network_policy(source, env):
    assert len(policies(Profile(source, env))) == (1 if env == "production" else 0)


@pytest.mark.parametrize("source", ["overlay", "chart"])
def test_production_admits_clients_peers_and_monitoring_only(source):
    (policy,) = policies(Profile(source, "production"))
    ingress = policy["spec"]["ingress"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert [[p["port"] for p in rule["ports"]] for rule in ingress] == [["client"], ["server", "leader-election"],
                                                                        ["metrics"]]
    assert policy["spec"]["podSelector"]["matchLabels"].items() >= MEMBERS.items()
    (own_pods,) = ingress[0]["from"]  # no client named: only the ensemble's own pods
    assert set(own_pods) == {"podSelector"} and "app.kubernetes.io/component" not in own_pods["podSelector"][
        "matchLabels"]
    (members,) = ingress[1]["from"]
    assert MEMBERS.items() <= members["podSelector"]["matchLabels"].items() and "namespaceSelector" not in members
    assert ingress[2]["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def test_the_policy_rules_fail_a_rendered_policy_that_cuts_members_off():
    text = render(Profile("overlay", "production"))
    assert not [f for f in check_manifests(load_text(text, "p.yaml"), "p", "production") if f.rule.startswith("ZK-NET")]
    broken = text.replace("    - port: leader-election\n      protocol: TCP\n", "")
    assert broken != text
    findings = [f for f in check_manifests(load_text(broken, "p.yaml"), "p", "production") if f.severity == "error"]
    assert [(f.rule, f.object, f.path) for f in findings] == [("ZK-NET-004", "NetworkPolicy/zookeeper", "spec.ingress")]
    assert "3888/leader-election" in findings[0].message


@pytest.fixture(scope="module")
def checkov_binary() -> Checkov:
    try:
        return Checkov.pinned()
    except ToolMissing as exc:
        pytest.skip(f"checkov is not available: {exc}")


@pytest.mark.slow  # the first run installs checkov into its own virtual environment (about 80 s); then ~4 s a file
def test_checkov_ckv2_k8s_6_passes_on_production_and_fails_without_a_policy(checkov_binary, tmp_path):
    profiles = [Profile("overlay", "production"), Profile("chart", "production"), Profile("overlay", "kind")]
    rendered = render_all(profiles, tmp_path)
    verdicts = {profile.name: {r.passed for r in checkov_binary.kubernetes(path, ["CKV2_K8S_6"])}
                for profile, path in rendered.items()}
    assert verdicts == {"overlay-production": {True}, "chart-production": {True}, "overlay-kind": {False}}
