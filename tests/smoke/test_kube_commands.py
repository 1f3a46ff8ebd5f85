"""The cluster targets without a cluster: the exact kubectl/helm argv of each step, and fast clear failures.

Expectations are written from the smoke spec (issue 6 and tools/smoke/kube.py's docstring), not copied from output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.smoke import clusters
from tools.smoke.kube import Helm, Kubectl, KubeTarget, deploy_source

NS = "kz-smoke-0a1b2c"
CTX = "kind-kube-zookeeper-smoke"


def target(via: str = "kustomize", env: str = "kind") -> KubeTarget:
    kubectl = Kubectl("kubectl", CTX, NS)
    helm = Helm("helm", CTX, NS)
    t = KubeTarget(env, via, kubectl, helm, progress=lambda line: None)
    t.statefulset = "zookeeper"  # what deploy discovers by label
    return t


def test_deploy_with_kustomize_applies_the_overlay_into_the_namespace():
    assert target("kustomize", "kind").apply_command() == [
        "kubectl", "--context", CTX, "--namespace", NS, "apply", "-k", str(REPO_ROOT / "overlays" / "kind"),
    ]  # fmt: skip


def test_deploy_with_helm_installs_the_chart_with_the_environments_ci_values():
    assert target("helm", "minikube").apply_command() == [
        "helm", "upgrade", "--install", "zookeeper", str(REPO_ROOT / "chart"),
        "--values", str(REPO_ROOT / "chart" / "ci" / "minikube-values.yaml"),
        "--namespace", NS, "--kube-context", CTX,
    ]  # fmt: skip


def test_a_missing_overlay_or_values_file_is_named():
    with pytest.raises(UserError, match=r"overlays/nowhere does not exist"):
        deploy_source(REPO_ROOT, "kustomize", "nowhere")
    with pytest.raises(UserError, match=r"chart/ci/nowhere-values.yaml does not exist"):
        deploy_source(REPO_ROOT, "helm", "nowhere")


def test_namespace_is_created_and_deleted_with_a_bounded_wait():
    kubectl = Kubectl("kubectl", CTX, NS)
    assert kubectl.create_namespace() == ["kubectl", "--context", CTX, "create", "namespace", NS]
    assert kubectl.delete_namespace(300) == [
        "kubectl", "--context", CTX, "delete", "namespace", NS, "--wait=true", "--timeout=300s",
    ]  # fmt: skip


def test_exec_runs_the_command_in_the_members_pod():
    t = target()
    assert t.kubectl.exec(t.pod(1), ["metrics.sh", "2181"]) == [
        "kubectl", "--context", CTX, "--namespace", NS, "exec", "zookeeper-1", "--", "metrics.sh", "2181",
    ]  # fmt: skip


def test_stopping_a_member_scales_the_statefulset_below_it_and_waits_for_its_pod_to_go():
    t = target()
    assert t.stop_commands(2) == [
        ["kubectl", "--context", CTX, "--namespace", NS, "scale", "statefulset/zookeeper", "--replicas=2"],
        ["kubectl", "--context", CTX, "--namespace", NS, "wait", "--for=delete", "pod/zookeeper-2", "--timeout=120s"],
    ]


def test_only_the_highest_running_ordinal_can_be_stopped():
    t = target()
    with pytest.raises(UserError, match="highest ordinal"):
        t.stop_commands(0)
    t.replicas = 2  # member 2 already stopped
    assert t.stop_commands(1)[0][-1] == "--replicas=1"


def test_starting_the_stopped_members_scales_back_to_three():
    t = target()
    t.replicas = 1  # members 2 and 1 stopped
    assert t.start_command([1, 2]) == [
        "kubectl", "--context", CTX, "--namespace", NS, "scale", "statefulset/zookeeper", "--replicas=3",
    ]  # fmt: skip
    with pytest.raises(UserError, match="stopped top ordinals"):
        t.start_command([2])  # member 1 would stay down: a StatefulSet cannot skip an ordinal


def test_removing_the_ensemble_deletes_only_the_statefulset_and_waits_for_its_pods():
    command = target().kubectl.delete_statefulset("zookeeper", 120)
    assert command == [
        "kubectl", "--context", CTX, "--namespace", NS, "delete", "statefulset/zookeeper",
        "--cascade=foreground", "--wait=true", "--timeout=120s",
    ]  # fmt: skip
    assert not any("pvc" in word.lower() for word in command)


def test_without_a_context_kubectl_uses_the_current_one():
    kubectl = Kubectl("oc", None, NS)
    assert kubectl.version() == ["oc", "version", "--request-timeout=5s"]
    assert kubectl.scale("zookeeper", 3) == ["oc", "--namespace", NS, "scale", "statefulset/zookeeper", "--replicas=3"]


def test_helm_uninstall_is_bounded():
    assert Helm("helm", None, NS).uninstall(120) == [
        "helm", "uninstall", "zookeeper", "--wait", "--timeout=120s", "--namespace", NS,
    ]  # fmt: skip


def test_kind_cluster_is_multi_node_and_created_from_the_repo_config():
    config = yaml.safe_load(clusters.KIND_CONFIG.read_text())
    roles = [node["role"] for node in config["nodes"]]
    assert roles.count("control-plane") == 1 and roles.count("worker") == 3
    assert clusters.kind_create_command("kind") == [
        "kind", "create", "cluster", "--name", "kube-zookeeper-smoke",
        "--config", str(REPO_ROOT / "tools" / "smoke" / "kind-cluster.yaml"), "--wait", "300s",
    ]  # fmt: skip
    assert clusters.kind_load_command("kind", Path("/tmp/image.tar")) == [
        "kind", "load", "image-archive", "/tmp/image.tar", "--name", "kube-zookeeper-smoke",
    ]  # fmt: skip


# -- the real CLI against no cluster -------------------------------------------------------------------------------


def smoke(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """python -m tools.smoke; the timeout only guards the test run against a hang."""
    return subprocess.run(
        [sys.executable, "-m", "tools.smoke", *args],
        cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket is: nothing listens there


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("via", ["kustomize", "helm"])
def test_an_unreachable_cluster_is_one_clear_line_and_a_non_zero_exit(tmp_path, via):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "dead",
            "clusters": [{"name": "dead", "cluster": {"server": f"https://127.0.0.1:{closed_port()}"}}],
            "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "nobody"}}],
            "users": [{"name": "nobody", "user": {"token": "none"}}],
        })
    )  # fmt: skip
    result = smoke(["--target", "current", "--via", via, "--report", str(tmp_path / "r.json")],
                   {"KUBECONFIG": str(kubeconfig)})  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.startswith("error: cluster unreachable (the current kubectl context):")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "r.json").exists()  # nothing ran, so no report


@pytest.mark.parametrize(("target", "program"), [("kind", "kind"), ("minikube", "minikube"), ("openshift", "oc")])
def test_a_missing_cluster_tool_is_one_line_naming_it(tmp_path, target, program):
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    if shutil.which("kubectl"):
        (empty_path / "kubectl").symlink_to(shutil.which("kubectl"))
    result = smoke(["--target", target], {"PATH": str(empty_path)})
    assert result.returncode == 127
    assert result.stderr.startswith(f"error: {program} not found on PATH;")
    assert len(result.stderr.strip().splitlines()) == 1
