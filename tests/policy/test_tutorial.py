"""The tutorial's zookeeper.yaml, checked as production, fails for what a user would expect."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.policy.conftest import line_number


@pytest.fixture(scope="module")
def tutorial_yaml(tutorial_manifest: Path) -> str:
    return tutorial_manifest.read_text()


def test_tutorial_fails_as_production(check_text, tutorial_yaml):
    findings = check_text(tutorial_yaml, "production", "zookeeper.yaml")
    errors = {f.rule for f in findings if f.severity == "error"}
    assert {
        "ZK-PDB-001",  # policy/v1beta1 was removed in 1.25
        "ZK-RES-002",  # no memory limit
        "ZK-SEC-001",  # no runAsNonRoot
        "ZK-SEC-004",  # privilege escalation allowed
        "ZK-SEC-005",  # capabilities not dropped
        "ZK-SEC-006",  # no seccomp profile
        "ZK-PRB-003",  # ready_live.sh sends ruok, which ZooKeeper >= 3.5 does not allow by default
        "ZK-ENS-004",  # the headless Service does not publish not-ready addresses
        "ZK-ENS-002",  # a fixed --servers=3: no member count to grow or shrink the voting set to
        "ZK-ADM-001",  # no admin Secret: nothing guards reconfiguration
    } <= errors
    # what the tutorial gets right is not reported
    assert not {"ZK-ENS-001", "ZK-AFF-001", "ZK-AFF-002", "ZK-RES-001", "ZK-RES-003",
                "ZK-IMG-001"} & errors

    pdb = next(f for f in findings if f.rule == "ZK-PDB-001")
    assert (pdb.object, pdb.path) == ("PodDisruptionBudget/zookeeper-pdb", "apiVersion")
    assert pdb.line == line_number(tutorial_yaml, "apiVersion: policy/v1beta1")
    probes = sorted((f.path, f.line) for f in findings if f.rule == "ZK-PRB-003")
    container = "spec.template.spec.containers[kubernetes-zookeeper]"
    assert probes == sorted([
        (f"{container}.livenessProbe.exec.command", line_number(tutorial_yaml, "            command:",
                                                                after="livenessProbe")),
        (f"{container}.readinessProbe.exec.command", line_number(tutorial_yaml, "            command:",
                                                                 after="readinessProbe")),
    ])
    assert all("no 4lw.commands.whitelist" in f.message for f in findings if f.rule == "ZK-PRB-003")


def test_tutorial_fails_on_minikube_for_the_pending_pods(check_text, tutorial_yaml):
    """The tutorial's own teachable moment: on one node, zookeeper-1 stays Pending under the required anti-affinity."""
    findings = check_text(tutorial_yaml, "minikube", "zookeeper.yaml")
    affinity = [f for f in findings if f.rule == "ZK-AFF-003"]
    assert [(f.object, f.path, f.line) for f in affinity] == [(
        "StatefulSet/zookeeper",
        "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]",
        line_number(tutorial_yaml, "            - labelSelector:"),
    )]
    pull = [f for f in findings if f.rule == "ZK-IMG-002"]
    assert [f.line for f in pull] == [line_number(tutorial_yaml, "        imagePullPolicy: Always")]
