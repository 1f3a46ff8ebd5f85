"""The smoke scenario of the cluster targets, run against a real control plane: it passes on the repository's
manifests and fails, with the API server's or the controllers' own words, on realistic defects."""

import shutil

import pytest

from tools import REPO_ROOT
from tools.cli.helm import Helm
from tools.smoke.scenarios.kube import KubeScenario, disruption
from tools.smoke.targets.kube import KubeTarget, new_namespace

pytestmark = pytest.mark.slow  # the `cluster` fixture (conftest.py) skips without the binaries


def scenario_report(cluster, env, root=REPO_ROOT):
    kubectl = cluster.kubectl.with_namespace(new_namespace())
    target = KubeTarget(env, "kustomize", kubectl, root=root, rollout_timeout=30, progress=lambda line: None)
    try:
        return KubeScenario(target, progress=lambda line: None).run()
    finally:
        target.teardown(keep_volumes=False)


def results(report):
    return {step.name: step.result for step in report.steps}


def copy_repo(tmp_path):
    for part in ("base", "components", "overlays"):
        shutil.copytree(REPO_ROOT / part, tmp_path / part)
    return tmp_path


def test_production_passes_every_kubernetes_step_and_runs_no_zookeeper_step(cluster):
    report = scenario_report(cluster, "production")
    assert report.ok, report.failed_step
    got = results(report)
    for step in (
        "server-dry-run-strict",
        "apply-and-rollout",
        "scheduling",
        "pdb-eviction",
        "scale-refused",
        "scale-out-and-back",
        "rolling-update",
        "reapply-or-rollback",
        "delete-keeps-pvcs",
    ):
        assert got[step] == "passed", step
    assert got["write"] == got["quorum"] == "not run"  # kwok pods run no ZooKeeper: never reported as passed
    assert got["scale-down-under-load"] == "not run"  # it needs a writer, so members that run
    pdb = next(step for step in report.steps if step.name == "pdb-eviction")
    assert "didn't match pod anti-affinity rules" in pdb.detail  # the third member Pending on two nodes
    assert "disruption budget" in pdb.detail
    scale = next(step for step in report.steps if step.name == "scale-out-and-back").detail
    assert "zookeeper-3, zookeeper-4 created" in scale and "their claims kept" in scale
    assert "anti-affinity rules" in scale  # 5 members, 3 nodes, one per node required: the scheduler's reason
    assert "allows 0 disruption(s)" in scale  # the PDB: 2 of 5 members Pending, none may go
    refused = next(step for step in report.steps if step.name == "scale-refused").detail
    # the admission policy (admission/), applied by the scenario on kwok nodes, in the API server's words
    assert "replicas 4 is an even count" in refused and "replicas 3 -> 7 changes 4 members at once" in refused


def test_a_root_uid_is_refused_by_restricted_pod_security(cluster, tmp_path):
    root = copy_repo(tmp_path)
    patch = root / "components" / "pinned-uid" / "pinned-uid-patch.yaml"
    patch.write_text(patch.read_text().replace("runAsUser: 1000", "runAsUser: 0"))
    report = scenario_report(cluster, "kind", root)
    assert report.failed_step.name == "server-dry-run-strict"
    # a StatefulSet is admitted with a warning (its pods would be refused): the dry run treats warnings as failures
    assert "would violate PodSecurity" in report.failed_step.detail and "runAsUser=0" in report.failed_step.detail


def test_a_pdb_that_allows_two_down_is_caught_by_the_eviction_step(cluster, tmp_path):
    root = copy_repo(tmp_path)
    pdb = root / "base" / "poddisruptionbudget.yaml"
    pdb.write_text(pdb.read_text().replace("maxUnavailable: 1", "maxUnavailable: 2"))
    report = scenario_report(cluster, "production", root)
    assert report.failed_step.name == "pdb-eviction"
    assert "the PDB does not hold" in report.failed_step.detail


def test_a_second_apply_after_an_immutable_change_fails_with_the_api_servers_words(cluster, tmp_path):
    root = copy_repo(tmp_path)
    kubectl = cluster.kubectl.with_namespace(new_namespace())
    target = KubeTarget("kind", "kustomize", kubectl, root=root, rollout_timeout=30, progress=lambda line: None)
    scenario = KubeScenario(target, progress=lambda line: None)
    try:
        for step in ("namespace-restricted", "apply-and-rollout"):
            scenario.step(step)
        patch = root / "overlays" / "kind" / "storage-class-patch.yaml"
        patch.write_text(patch.read_text().replace("standard", "kwok-volume"))  # a volumeClaimTemplates change
        with pytest.raises(Exception, match="Forbidden: updates to statefulset spec for fields other than"):
            scenario.step("reapply-or-rollback")
    finally:
        disruption.uncordon(scenario)
        target.teardown(keep_volumes=False)


def test_ordered_ready_pod_management_is_caught_at_the_apply(cluster, tmp_path):
    root = copy_repo(tmp_path)
    statefulset = root / "base" / "statefulset.yaml"
    statefulset.write_text(
        statefulset.read_text().replace("podManagementPolicy: Parallel", "podManagementPolicy: OrderedReady")
    )
    report = scenario_report(cluster, "production", root)
    assert report.failed_step.name == "apply-and-rollout"
    assert "only 1 of 3 members created" in report.failed_step.detail


def test_a_count_in_the_pod_template_is_caught_restarting_the_members(cluster, tmp_path):
    """The old way (ZOO_SERVERS in the settings ConfigMap, which the pod template names by its hash): 3 -> 5 would
    roll every member. The scale step sees the new controller revision."""
    root = copy_repo(tmp_path)
    component = root / "components" / "five-members" / "kustomization.yaml"
    component.write_text(component.read_text() + "  - name: zookeeper-config\n    behavior: merge\n    literals:\n"
                         "      - ZOO_SERVERS=5\n")
    report = scenario_report(cluster, "kind", root)
    assert report.failed_step.name == "scale-out-and-back"
    detail = report.failed_step.detail  # kwok replaces pods within a second; which sign is seen first varies
    assert "scaling 3 -> 5 " in detail
    assert ("restarted or replaced members ['zookeeper-0', 'zookeeper-1', 'zookeeper-2']" in detail
            or "changed the pod template: revision" in detail)


def test_the_chart_refuses_a_step_the_quorum_cannot_absorb_with_one_line(cluster):
    kubectl = cluster.kubectl.with_namespace(new_namespace())
    chart = Helm.like(kubectl)
    target = KubeTarget("default", "helm", kubectl, chart, rollout_timeout=30, progress=lambda line: None)
    scenario = KubeScenario(target, progress=lambda line: None)
    try:
        for step in ("namespace-restricted", "admin-secret", "apply-and-rollout", "scale-out-and-back"):
            scenario.step(step)
        detail = scenario.step("scale-refused")
    finally:
        disruption.uncordon(scenario)
        target.teardown(keep_volumes=False)
    assert "at '/replicas': value must be one of 1, 3, 5, 7, 9" in detail  # the schema
    assert ("replicas 3 -> 7 changes 4 members at once, more than the 3 that 7 members can lose with a quorum left; "
            "go 3 -> 5 -> 7") in detail  # the chart's lookup of the live count
    assert "replicas 3 -> 1 changes 2 members at once" in detail
