"""kubectl (or oc), as found on PATH, with its built-in kustomize: one class, a method per subcommand.

    kubectl = Kubectl(kubeconfig=..., context=..., namespace=...)  # program: kubectl on PATH, or a path (oc)
    kubectl.with_namespace("other")                     # the same cluster, another namespace
    kubectl.kustomize(directory) -> str                 # the rendered multi-document YAML
    kubectl.kustomize_build(directory) -> Result        # and kustomize's warnings on stderr
    kubectl.version(); kubectl.create_namespace(); kubectl.delete_namespace(timeout=300)
    kubectl.apply(directory=... | manifests=... | files=[...], dry_run="server", strict=True, server_side=True)
    kubectl.delete("pod/x", directory=..., cascade="foreground", timeout=120)
    kubectl.get(kind, name, selector=..., output=...); get_json(...) -> dict; items(...) -> list; names(...)
    kubectl.jsonpath(kind, name, "{.status.readyReplicas}") -> str; api_resources() -> list
    kubectl.exec(pod, argv, timeout); scale(statefulset, replicas); wait(*objects, condition=..., timeout=...)
    kubectl.rollout_status(statefulset, timeout); cordon(node); uncordon(node); drain(node, pod_selector, timeout)
    kubectl.label(kind, name, labels); patch(kind, name, patch, subresource=...); evict(pod)  # the Eviction API
    kubectl.create_secret(name, key, value)             # the value on stdin, never in a process list
    kubectl.watch(kind, selector, template) -> Popen    # `get --watch --output-watch-events` lines
    kubectl.cli(*args)                                  # anything else

Every method runs through tools.base.run (through `runner`, which tests replace to see the argv) and raises
CommandError on a non-zero exit unless given check=False. A method's `timeout` is kubectl's own `--timeout` where
the subcommand has one (the process gets 30 s more), else the process's.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tools.base.run import Result, run, which

_HINT = "install kubectl (it carries kustomize), e.g. from your distribution or the Kubernetes release packages"
TIMEOUT = 120  # seconds for any one call that is not an exec or a bounded wait
REQUEST_TIMEOUT = "5s"  # `version`: one clear line instead of a hang when the cluster does not answer
GRACE = 30  # seconds the process gets beyond kubectl's own --timeout


def binary() -> str:
    return which("kubectl", _HINT)


@dataclass(frozen=True)
class Kubectl:
    """kubectl (or oc) for one kubeconfig, context and namespace (each optional: kubectl's own default)."""

    program: str = ""  # a path to kubectl or oc; empty: kubectl on PATH
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    runner: Callable[..., Result] = field(default=run, repr=False, compare=False)

    def __post_init__(self):
        if not self.program:
            object.__setattr__(self, "program", binary())

    def with_namespace(self, namespace: str) -> Kubectl:
        return replace(self, namespace=namespace)

    # -- the core every method goes through ------------------------------------------------------------------------

    def argv(self, *args: str | Path, namespaced: bool = True) -> list[str]:
        """`kubectl [--kubeconfig K] [--context C] [--namespace N] args...`; no namespace for cluster-wide calls."""
        return [
            self.program,
            *(["--kubeconfig", self.kubeconfig] if self.kubeconfig else []),
            *(["--context", self.context] if self.context else []),
            *(["--namespace", self.namespace] if namespaced and self.namespace else []),
            *map(str, args),
        ]

    def cli(
        self,
        *args: str | Path,
        namespaced: bool = True,
        input: str | None = None,
        check: bool = True,
        timeout: float = TIMEOUT,
    ) -> Result:
        return self.runner(self.argv(*args, namespaced=namespaced), input=input, check=check, timeout=timeout)

    def command_line(self, call: Callable[[Kubectl], object]) -> str:
        """The command `call(kubectl)` would run, as a user types it, without running it (for hints)."""
        seen: list[list[str]] = []
        call(replace(self, runner=lambda argv, **_: seen.append(argv) or Result(0, "", "")))
        return shlex.join(seen[0])

    # -- kustomize, version, namespaces ----------------------------------------------------------------------------

    def kustomize(self, directory: Path) -> str:
        """`kubectl kustomize DIR`: the rendered multi-document YAML."""
        return self.kustomize_build(directory).stdout

    def kustomize_build(self, directory: Path) -> Result:
        """`kubectl kustomize DIR`: the YAML on stdout, kustomize's warnings (deprecated fields) on stderr."""
        return self.cli("kustomize", directory, namespaced=False)

    def version(self, check: bool = True) -> Result:
        return self.cli("version", f"--request-timeout={REQUEST_TIMEOUT}", namespaced=False, check=check, timeout=30)

    def create_namespace(self, name: str | None = None, check: bool = True) -> Result:
        return self.cli("create", "namespace", name or self.namespace, namespaced=False, check=check)

    def delete_namespace(self, name: str | None = None, timeout: int = 300, check: bool = True) -> Result:
        return self.cli("delete", "namespace", name or self.namespace, "--wait=true", f"--timeout={timeout}s",
                        namespaced=False, check=check, timeout=timeout + GRACE)

    # -- objects ---------------------------------------------------------------------------------------------------

    def apply(
        self,
        *,
        directory: Path | None = None,
        manifests: str | None = None,
        files: Sequence[Path] = (),
        dry_run: str | None = None,
        strict: bool = False,
        server_side: bool = False,
        namespaced: bool = True,
        check: bool = True,
        timeout: float = 300,
    ) -> Result:
        """`apply -k DIR`, `apply -f -` (manifests on stdin) or `apply -f F...`; a dry run (`server`), strict field
        validation, server-side apply."""
        args = [
            *([f"--dry-run={dry_run}"] if dry_run else []),
            *(["--validate=strict"] if strict else []),
            *(["--server-side"] if server_side else []),
            *(["-k", directory] if directory is not None else []),
            *(["-f", "-"] if manifests is not None else []),
            *[word for path in files for word in ("-f", path)],
        ]
        return self.cli("apply", *args, namespaced=namespaced, input=manifests, check=check, timeout=timeout)

    def delete(
        self,
        *objects: str,
        directory: Path | None = None,
        cascade: str | None = None,
        timeout: int | None = None,
        check: bool = True,
    ) -> Result:
        """`delete KIND/NAME... | -k DIR --wait=true`, bounded by kubectl's --timeout when given."""
        args = [
            *objects,
            *(["-k", directory] if directory is not None else []),
            *([f"--cascade={cascade}"] if cascade else []),
            "--wait=true",
            *([f"--timeout={timeout}s"] if timeout else []),
        ]
        return self.cli("delete", *args, check=check, timeout=(timeout or TIMEOUT) + GRACE)

    def get(
        self,
        kind: str,
        name: str | None = None,
        *,
        selector: str | None = None,
        output: str | None = None,
        columns: Sequence[str] = (),
        ignore_not_found: bool = False,
        namespaced: bool = True,
        check: bool = True,
    ) -> Result:
        args = [
            kind,
            *([name] if name else []),
            *(["--selector", selector] if selector else []),
            *(["-o", output] if output else []),
            *[word for column in columns for word in ("-L", column)],
            *(["--ignore-not-found"] if ignore_not_found else []),
        ]
        return self.cli("get", *args, namespaced=namespaced, check=check)

    def get_json(self, kind: str, name: str | None = None, *, selector: str | None = None,
                 namespaced: bool = True) -> dict:
        return json.loads(self.get(kind, name, selector=selector, output="json", namespaced=namespaced).stdout)

    def items(self, kind: str, *, selector: str | None = None, namespaced: bool = True) -> list[dict]:
        """`get KIND -o json`'s items."""
        return self.get_json(kind, selector=selector, namespaced=namespaced)["items"]

    def names(self, kind: str, *, selector: str | None = None) -> list[str]:
        return self.jsonpath(kind, None, "{.items[*].metadata.name}", selector=selector).split()

    def jsonpath(self, kind: str, name: str | None, expression: str, *, selector: str | None = None,
                 namespaced: bool = True) -> str:
        return self.get(kind, name, selector=selector, output=f"jsonpath={expression}", namespaced=namespaced).stdout

    def api_resources(self, *, namespaced: bool = True, verbs: str = "list") -> list[str]:
        """The API's resource kinds (names such as `pods`, `statefulsets.apps`) that take those verbs."""
        args = [f"--verbs={verbs}", f"--namespaced={str(namespaced).lower()}", "-o", "name"]
        return self.cli("api-resources", *args, namespaced=False).stdout.split()

    def label(self, kind: str, name: str, labels: Mapping[str, str], *, namespaced: bool = True,
              check: bool = True) -> Result:
        return self.cli("label", kind, name, *(f"{key}={value}" for key, value in labels.items()),
                        namespaced=namespaced, check=check)

    def patch(self, kind: str, name: str, patch: dict, *, subresource: str | None = None,
              patch_type: str = "strategic", check: bool = True) -> Result:
        args = [*([f"--subresource={subresource}"] if subresource else []), f"--type={patch_type}"]
        return self.cli("patch", kind, name, *args, "-p", json.dumps(patch), check=check)

    def create_secret(self, name: str, key: str, value: str, check: bool = True) -> Result:
        """`create secret generic NAME --from-file=KEY=/dev/stdin`: the value is given on stdin, so it never shows
        in a process list."""
        return self.cli("create", "secret", "generic", name, f"--from-file={key}=/dev/stdin", input=value,
                        check=check)

    # -- pods and workloads ----------------------------------------------------------------------------------------

    def exec(self, pod: str, argv: Sequence[str], timeout: float, check: bool = True) -> Result:
        return self.cli("exec", pod, "--", *argv, check=check, timeout=timeout)

    def scale(self, statefulset: str, replicas: int, check: bool = True) -> Result:
        return self.cli("scale", f"statefulset/{statefulset}", f"--replicas={replicas}", check=check)

    def wait(self, *objects: str, condition: str = "delete", timeout: int = TIMEOUT, namespaced: bool = True,
             check: bool = True) -> Result:
        """`wait --for=delete OBJ...` or `--for=condition=NAME`, bounded by kubectl's --timeout."""
        wanted = "--for=delete" if condition == "delete" else f"--for=condition={condition}"
        return self.cli("wait", wanted, *objects, f"--timeout={timeout}s", namespaced=namespaced, check=check,
                        timeout=timeout + GRACE)

    def rollout_status(self, statefulset: str, timeout: int, check: bool = True) -> Result:
        return self.cli("rollout", "status", f"statefulset/{statefulset}", f"--timeout={timeout}s", check=check,
                        timeout=timeout + GRACE)

    def evict(self, pod: str, check: bool = True) -> Result:
        """The Eviction subresource (what `kubectl drain` posts for each pod): the PDB may refuse it (HTTP 429)."""
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": self.namespace}}
        path = f"/api/v1/namespaces/{self.namespace}/pods/{pod}/eviction"
        return self.cli("create", "--raw", path, "-f", "-", namespaced=False, input=json.dumps(body), check=check)

    def watch(self, kind: str, *, selector: str, template: str) -> subprocess.Popen:
        """`get KIND --watch --output-watch-events -o jsonpath=TEMPLATE`, a line per event on the Popen's stdout."""
        argv = self.argv("get", kind, "--selector", selector, "--watch", "--output-watch-events", "-o",
                         f"jsonpath={template}")
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    # -- nodes -----------------------------------------------------------------------------------------------------

    def cordon(self, node: str, check: bool = True) -> Result:
        return self.cli("cordon", node, namespaced=False, check=check)

    def uncordon(self, node: str, check: bool = True) -> Result:
        return self.cli("uncordon", node, namespaced=False, check=check)

    def drain(self, node: str, *, pod_selector: str, timeout: int = TIMEOUT, check: bool = True) -> Result:
        """Cordon the node and evict its pods that match (through the eviction API: the PDB applies)."""
        return self.cli("drain", node, f"--pod-selector={pod_selector}", "--ignore-daemonsets",
                        "--delete-emptydir-data", f"--timeout={timeout}s", namespaced=False, check=check,
                        timeout=timeout + 60)
