"""tools/cli/kubectl.py and tools/cli/helm.py: the argv each method runs (through a recording runner), written from
kubectl's and helm's own usage, and the failure every method raises unless told not to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.base.run import CommandError, Result
from tools.cli.helm import Helm
from tools.cli.kubectl import Kubectl

NS = "ns"


class Recorder:
    def __init__(self, code: int = 0, stdout: str = ""):
        self.calls: list[tuple[list[str], dict]] = []
        self.code, self.stdout = code, stdout

    def __call__(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        result = Result(self.code, self.stdout, "refused")
        if kwargs.get("check", True) and self.code:
            raise CommandError(argv, result)
        return result

    @property
    def argvs(self) -> list[list[str]]:
        return [argv for argv, _ in self.calls]


def kubectl(runner: Recorder, **scope) -> Kubectl:
    return Kubectl("kubectl", **({"kubeconfig": "/kc", "namespace": NS} | scope), runner=runner)


def test_scope_flags_come_first_and_cluster_wide_calls_carry_no_namespace():
    runner = Recorder()
    k = kubectl(runner, context="ctx")
    k.cordon("node-1")
    k.get("pods")
    assert runner.argvs == [
        ["kubectl", "--kubeconfig", "/kc", "--context", "ctx", "cordon", "node-1"],
        ["kubectl", "--kubeconfig", "/kc", "--context", "ctx", "--namespace", NS, "get", "pods"],
    ]
    assert k.with_namespace("other").argv("get", "pods")[-4:] == ["--namespace", "other", "get", "pods"]
    assert k.namespace == NS  # with_namespace derives a new one


def test_apply_takes_a_kustomization_stdin_or_files_with_a_strict_server_side_dry_run():
    runner = Recorder()
    k = kubectl(runner)
    k.apply(directory=Path("/overlay"))
    k.apply(manifests="kind: List\n", dry_run="server", strict=True)
    k.apply(files=[Path("/a.yaml"), Path("/b.yaml")], server_side=True, namespaced=False)
    assert [argv[3:] for argv in runner.argvs] == [
        ["--namespace", NS, "apply", "-k", "/overlay"],
        ["--namespace", NS, "apply", "--dry-run=server", "--validate=strict", "-f", "-"],
        ["apply", "--server-side", "-f", "/a.yaml", "-f", "/b.yaml"],
    ]
    assert runner.calls[1][1]["input"] == "kind: List\n"


def test_bounded_calls_pass_kubectls_timeout_and_give_the_process_longer():
    runner = Recorder()
    k = kubectl(runner)
    k.delete("statefulset/zk", cascade="foreground", timeout=120)
    k.wait("crd/a", "crd/b", condition="Established", timeout=60, namespaced=False)
    k.rollout_status("zk", 600)
    k.drain("node-1", pod_selector="app=zk", timeout=120)
    assert [argv[3:] for argv in runner.argvs] == [
        ["--namespace", NS, "delete", "statefulset/zk", "--cascade=foreground", "--wait=true", "--timeout=120s"],
        ["wait", "--for=condition=Established", "crd/a", "crd/b", "--timeout=60s"],
        ["--namespace", NS, "rollout", "status", "statefulset/zk", "--timeout=600s"],
        ["drain", "node-1", "--pod-selector=app=zk", "--ignore-daemonsets", "--delete-emptydir-data",
         "--timeout=120s"],
    ]
    assert [kwargs["timeout"] for _, kwargs in runner.calls] == [150, 90, 630, 180]


def test_get_and_its_shapes():
    runner = Recorder(stdout=json.dumps({"items": [{"metadata": {"name": "zk-0"}}]}))
    k = kubectl(runner)
    assert k.items("pods", selector="app=zk") == [{"metadata": {"name": "zk-0"}}]
    k.get("nodes", columns=["zone", "type"], namespaced=False)
    k.get("pods,services", output="name", ignore_not_found=True)
    k.jsonpath("configmap", "zk-ensemble", "{.data.replicas}")
    assert [argv[3:] for argv in runner.argvs] == [
        ["--namespace", NS, "get", "pods", "--selector", "app=zk", "-o", "json"],
        ["get", "nodes", "-L", "zone", "-L", "type"],
        ["--namespace", NS, "get", "pods,services", "-o", "name", "--ignore-not-found"],
        ["--namespace", NS, "get", "configmap", "zk-ensemble", "-o", "jsonpath={.data.replicas}"],
    ]


def test_evict_posts_an_eviction_and_the_secret_value_goes_on_stdin_only():
    runner = Recorder()
    k = kubectl(runner)
    k.evict("zk-2")
    k.create_secret("zk-admin", "password", "s3cret")
    (evict, evict_kwargs), (secret, secret_kwargs) = runner.calls
    assert evict[3:] == ["create", "--raw", f"/api/v1/namespaces/{NS}/pods/zk-2/eviction", "-f", "-"]
    assert json.loads(evict_kwargs["input"]) == {
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "zk-2", "namespace": NS}}
    assert secret[3:] == ["--namespace", NS, "create", "secret", "generic", "zk-admin",
                          "--from-file=password=/dev/stdin"]
    assert secret_kwargs["input"] == "s3cret" and "s3cret" not in " ".join(secret)


def test_label_patch_and_api_resources():
    runner = Recorder(stdout="pods\nstatefulsets.apps\n")
    k = kubectl(runner)
    k.label("namespace", NS, {"a": "1", "b": "2"}, namespaced=False)
    k.patch("pod", "zk-0", {"status": {}}, subresource="status")
    assert k.api_resources() == ["pods", "statefulsets.apps"]
    assert [argv[3:] for argv in runner.argvs] == [
        ["label", "namespace", NS, "a=1", "b=2"],
        ["--namespace", NS, "patch", "pod", "zk-0", "--subresource=status", "--type=strategic", "-p",
         '{"status": {}}'],
        ["api-resources", "--verbs=list", "--namespaced=true", "-o", "name"],
    ]


def test_a_failure_raises_with_the_command_unless_check_is_false():
    k = kubectl(Recorder(code=1))
    with pytest.raises(CommandError, match="kubectl --kubeconfig /kc --namespace ns scale statefulset/zk"):
        k.scale("zk", 3)
    assert k.scale("zk", 3, check=False).code == 1


def test_the_command_line_of_a_method_is_shown_without_running_it():
    runner = Recorder()
    k = kubectl(runner)
    assert k.command_line(lambda it: it.delete_namespace(timeout=300)) == (
        f"kubectl --kubeconfig /kc delete namespace {NS} --wait=true --timeout=300s")
    assert runner.calls == []


def test_helm_renders_without_the_cluster_and_installs_with_it():
    runner = Recorder()
    helm = Helm("helm", kubeconfig="/kc", context="ctx", namespace=NS, runner=runner)
    helm.template(Path("/chart"), values=[Path("/v.yaml")], set_values=["replicas=5"])
    Helm("helm", runner=runner).template(Path("/chart"))
    helm.upgrade_install("zookeeper", Path("/chart"), values=[Path("/v.yaml")], wait=True, timeout=600)
    helm.rollback("zookeeper", 1, timeout=600)
    helm.uninstall("zookeeper", 120)
    scope = ["--namespace", NS, "--kubeconfig", "/kc", "--kube-context", "ctx"]
    assert runner.argvs == [
        ["helm", "template", "zk", "/chart", "-f", "/v.yaml", "--set", "replicas=5", "--namespace", NS],
        ["helm", "template", "zk", "/chart", "--namespace", "default"],
        ["helm", "upgrade", "--install", "zookeeper", "/chart", "--values", "/v.yaml", "--wait", "--timeout=600s",
         *scope],
        ["helm", "rollback", "zookeeper", "1", "--wait", "--timeout=600s", *scope],
        ["helm", "uninstall", "zookeeper", "--wait", "--timeout=120s", *scope],
    ]
    assert [kwargs["timeout"] for _, kwargs in runner.calls][2:] == [630, 630, 150]


def test_helm_like_a_kubectl_talks_to_the_same_cluster_and_namespace():
    helm = Helm.like(Kubectl("kubectl", kubeconfig="/kc", context="ctx", namespace=NS), program="helm")
    assert (helm.kubeconfig, helm.context, helm.namespace) == ("/kc", "ctx", NS)


def test_helm_lint_never_raises_and_history_and_values_are_json():
    runner = Recorder(code=1)
    assert Helm("helm", runner=runner).lint(Path("/chart"), values=[Path("/v.yaml")]).code == 1
    assert runner.argvs == [["helm", "lint", "/chart", "--strict", "-f", "/v.yaml"]]
    runner = Recorder(stdout='[{"revision": 1}]')
    assert Helm("helm", namespace=NS, runner=runner).history("zookeeper") == [{"revision": 1}]
    runner = Recorder(stdout="null")
    assert Helm("helm", namespace=NS, runner=runner).get_values("zookeeper") == {}
    assert runner.argvs == [["helm", "get", "values", "zookeeper", "--output", "json", "--namespace", NS]]
