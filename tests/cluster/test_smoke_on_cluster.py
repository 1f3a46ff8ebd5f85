"""The smoke scenario of the cluster targets, run against a real control plane: it passes on the repository's
manifests and fails, with the API server's or the controllers' own words, on realistic defects."""

import shutil

import pytest

from tools import REPO_ROOT, kustomize
from tools.smoke.kube import Kubectl, KubeTarget, new_namespace
from tools.smoke.kube_checks import KubeScenario

pytestmark = pytest.mark.slow  # the `cluster` fixture (conftest.py) skips without the binaries


def scenario_report(cluster, env, root=REPO_ROOT):
    kubectl = Kubectl(kustomize.kubectl(), None, new_namespace(), str(cluster.kubeconfig))
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
        "rolling-update",
        "reapply-or-rollback",
        "delete-keeps-pvcs",
    ):
        assert got[step] == "passed", step
    assert got["write"] == got["quorum"] == "not run"  # kwok pods run no ZooKeeper: never reported as passed
    pdb = next(step for step in report.steps if step.name == "pdb-eviction")
    assert "didn't match pod anti-affinity rules" in pdb.detail  # the third member Pending on two nodes
    assert "disruption budget" in pdb.detail


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
    kubectl = Kubectl(kustomize.kubectl(), None, new_namespace(), str(cluster.kubeconfig))
    target = KubeTarget("kind", "kustomize", kubectl, root=root, rollout_timeout=30, progress=lambda line: None)
    scenario = KubeScenario(target, progress=lambda line: None)
    try:
        for step in (scenario.restricted_namespace, scenario.apply_and_rollout):
            step()
        patch = root / "overlays" / "kind" / "storage-class-patch.yaml"
        patch.write_text(patch.read_text().replace("standard", "kwok-volume"))  # a volumeClaimTemplates change
        with pytest.raises(Exception, match="Forbidden: updates to statefulset spec for fields other than"):
            scenario.reapply_or_rollback()
    finally:
        scenario.uncordon()
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
