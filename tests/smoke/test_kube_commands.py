"""The cluster targets without a cluster: the exact kubectl/helm argv of each step, and fast clear failures.

Expectations are written from the smoke spec (issue 6 and tools/smoke/targets/kube.py's docstring), not copied from
output. The kubectl and helm calls run through a recording runner: the argv each Target method runs, in order.
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
from tools.base.run import Result
from tools.cli.helm import Helm
from tools.cli.kubectl import Kubectl
from tools.smoke.targets import connect
from tools.smoke.targets.kube import KubeTarget, deploy_source

NS = "kz-smoke-0a1b2c"
CTX = "kind-kube-zookeeper-smoke"


class Recorder:
    """A runner that records each argv and answers exit 0 with answer(argv) on stdout."""

    def __init__(self, answer=lambda argv: ""):
        self.calls: list[list[str]] = []
        self.answer = answer

    def __call__(self, argv, **_):
        self.calls.append(argv)
        return Result(0, self.answer(argv), "")


def target(via: str = "kustomize", env: str = "kind", runner: Recorder | None = None) -> KubeTarget:
    runner = runner or Recorder()
    kubectl = Kubectl("kubectl", context=CTX, namespace=NS, runner=runner)
    helm = Helm("helm", context=CTX, namespace=NS, runner=runner)
    t = KubeTarget(env, via, kubectl, helm, progress=lambda line: None)
    t.statefulset = "zookeeper"  # what deploy discovers by label
    return t


def test_deploy_with_kustomize_applies_the_overlay_into_the_namespace():
    runner = Recorder()
    target("kustomize", "kind", runner).apply()
    assert runner.calls == [[
        "kubectl", "--context", CTX, "--namespace", NS, "apply", "-k", str(REPO_ROOT / "overlays" / "kind"),
    ]]  # fmt: skip


def test_deploy_with_helm_installs_the_chart_with_the_environments_ci_values():
    runner = Recorder()
    target("helm", "minikube", runner).apply()
    assert runner.calls == [[
        "helm", "upgrade", "--install", "zookeeper", str(REPO_ROOT / "chart"),
        "--values", str(REPO_ROOT / "chart" / "ci" / "minikube-values.yaml"),
        "--namespace", NS, "--kube-context", CTX,
    ]]  # fmt: skip


def test_a_set_value_is_for_the_chart_only():
    runner = Recorder()
    target("helm", "minikube", runner).apply(set_values=["replicas=5"])
    assert runner.calls[0][-6:] == ["--set", "replicas=5", "--namespace", NS, "--kube-context", CTX]
    with pytest.raises(UserError, match="only the chart takes values"):
        target("kustomize").apply(set_values=["replicas=5"])


def test_deploy_finds_the_statefulset_by_label_and_waits_for_every_member_ready():
    runner = Recorder(lambda argv: "zookeeper" if argv[-1] == "jsonpath={.items[*].metadata.name}" else "3")
    t = target(runner=runner)
    t.statefulset = ""
    t.deploy()
    assert runner.calls == [
        ["kubectl", "--context", CTX, "create", "namespace", NS],
        ["kubectl", "--context", CTX, "--namespace", NS, "apply", "-k", str(REPO_ROOT / "overlays" / "kind")],
        ["kubectl", "--context", CTX, "--namespace", NS, "get", "statefulsets",
         "--selector", "app.kubernetes.io/instance=zookeeper", "-o", "jsonpath={.items[*].metadata.name}"],
        ["kubectl", "--context", CTX, "--namespace", NS, "get", "statefulset", "zookeeper",
         "-o", "jsonpath={.status.readyReplicas}"],
    ]  # fmt: skip
    assert t.statefulset == "zookeeper"


def test_a_missing_overlay_or_values_file_is_named():
    with pytest.raises(UserError, match=r"overlays/nowhere does not exist"):
        deploy_source(REPO_ROOT, "kustomize", "nowhere")
    with pytest.raises(UserError, match=r"chart/ci/nowhere-values.yaml does not exist"):
        deploy_source(REPO_ROOT, "helm", "nowhere")


def test_namespace_is_created_and_deleted_with_a_bounded_wait():
    runner = Recorder()
    kubectl = Kubectl("kubectl", context=CTX, namespace=NS, runner=runner)
    kubectl.create_namespace()
    kubectl.delete_namespace(timeout=300)
    assert runner.calls == [
        ["kubectl", "--context", CTX, "create", "namespace", NS],
        ["kubectl", "--context", CTX, "delete", "namespace", NS, "--wait=true", "--timeout=300s"],
    ]


def test_exec_runs_the_command_in_the_members_pod():
    runner = Recorder()
    target(runner=runner).exec(1, ["metrics.sh", "2181"], 10)
    assert runner.calls == [[
        "kubectl", "--context", CTX, "--namespace", NS, "exec", "zookeeper-1", "--", "metrics.sh", "2181",
    ]]  # fmt: skip


def test_stopping_a_member_scales_the_statefulset_below_it_and_waits_for_its_pod_to_go():
    runner = Recorder()
    target(runner=runner).stop(2)
    assert runner.calls == [
        ["kubectl", "--context", CTX, "--namespace", NS, "scale", "statefulset/zookeeper", "--replicas=2"],
        ["kubectl", "--context", CTX, "--namespace", NS, "wait", "--for=delete", "pod/zookeeper-2", "--timeout=120s"],
    ]


def test_only_the_highest_running_ordinal_can_be_stopped():
    runner = Recorder()
    t = target(runner=runner)
    with pytest.raises(UserError, match="highest ordinal"):
        t.stop(0)
    assert runner.calls == []
    t.replicas = 2  # member 2 already stopped
    t.stop(1)
    assert runner.calls[0][-1] == "--replicas=1" and t.replicas == 1


def test_starting_the_stopped_members_scales_back_to_three():
    runner = Recorder()
    t = target(runner=runner)
    t.replicas = 1  # members 2 and 1 stopped
    with pytest.raises(UserError, match="stopped top ordinals"):
        t.start([2])  # member 1 would stay down: a StatefulSet cannot skip an ordinal
    t.start([1, 2])
    assert runner.calls == [[
        "kubectl", "--context", CTX, "--namespace", NS, "scale", "statefulset/zookeeper", "--replicas=3",
    ]]  # fmt: skip


def test_removing_the_ensemble_deletes_only_the_statefulset_and_waits_for_its_pods():
    runner = Recorder()
    target(runner=runner).remove_ensemble()
    assert runner.calls == [[
        "kubectl", "--context", CTX, "--namespace", NS, "delete", "statefulset/zookeeper",
        "--cascade=foreground", "--wait=true", "--timeout=120s",
    ]]  # fmt: skip
    assert not any("pvc" in word.lower() for word in runner.calls[0])


def test_keeping_the_volumes_says_the_command_that_deletes_the_namespace():
    runner, said = Recorder(), []
    t = target(runner=runner)
    t.progress = said.append
    t.teardown(keep_volumes=True)
    assert runner.calls == [[
        "kubectl", "--context", CTX, "--namespace", NS, "delete", "statefulset/zookeeper",
        "--cascade=foreground", "--wait=true", "--timeout=120s",
    ]]  # fmt: skip
    assert said == [f"smoke: kept namespace {NS} with its PVCs; delete it with "
                    f"`kubectl --context {CTX} delete namespace {NS} --wait=true --timeout=300s`"]


def test_the_helm_teardown_uninstalls_then_deletes_the_namespace():
    runner = Recorder()
    target("helm", runner=runner).teardown(keep_volumes=False)
    assert runner.calls == [
        ["helm", "uninstall", "zookeeper", "--wait", "--timeout=120s", "--namespace", NS, "--kube-context", CTX],
        ["kubectl", "--context", CTX, "delete", "namespace", NS, "--wait=true", "--timeout=300s"],
    ]


def test_without_a_context_kubectl_uses_the_current_one():
    runner = Recorder()
    kubectl = Kubectl("oc", namespace=NS, runner=runner)
    kubectl.version()
    kubectl.scale("zookeeper", 3)
    assert runner.calls == [
        ["oc", "version", "--request-timeout=5s"],
        ["oc", "--namespace", NS, "scale", "statefulset/zookeeper", "--replicas=3"],
    ]


def test_helm_uninstall_is_bounded():
    runner = Recorder()
    Helm("helm", namespace=NS, runner=runner).uninstall("zookeeper", 120)
    assert runner.calls == [["helm", "uninstall", "zookeeper", "--wait", "--timeout=120s", "--namespace", NS]]


def test_kind_cluster_is_multi_node_and_created_from_the_repo_config():
    config = yaml.safe_load(connect.KIND_CONFIG.read_text())
    roles = [node["role"] for node in config["nodes"]]
    assert roles.count("control-plane") == 1 and roles.count("worker") == 3
    assert connect.kind_create_command("kind") == [
        "kind", "create", "cluster", "--name", "kube-zookeeper-smoke",
        "--config", str(REPO_ROOT / "tools" / "smoke" / "kind-cluster.yaml"), "--wait", "300s",
    ]  # fmt: skip
    assert connect.kind_load_command("kind", Path("/tmp/image.tar")) == [
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
