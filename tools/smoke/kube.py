"""The cluster targets: deploy an overlay or the chart into a fresh namespace and drive it with kubectl.

How a member is stopped: a StatefulSet puts back a deleted pod within seconds, and the kubelet restarts a container
whose process was killed, so neither keeps a member away while the scenario writes. Scaling the StatefulSet down
does: it removes the highest ordinals and keeps them removed, their PVCs stay, and scaling up brings the same members
back on their own data. So `stop(2)` is `--replicas=2`, `stop(1)` is `--replicas=1`, `start([1, 2])` is
`--replicas=3`; the scenario stops members highest-first for every target.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.base.run import Result, run
from tools.smoke.target import Target

RELEASE = "zookeeper"  # the helm release; the overlays' instance label has the same value
SELECTOR = f"app.kubernetes.io/instance={RELEASE}"
REQUEST_TIMEOUT = "5s"
KUBECTL_TIMEOUT = 120  # seconds for any one kubectl call that is not an exec or a bounded wait


@dataclass(frozen=True)
class Kubectl:
    """kubectl (or oc) argv for one context and namespace."""

    program: str
    context: str | None
    namespace: str
    kubeconfig: str | None = None

    def global_argv(self) -> list[str]:
        return (
            [self.program]
            + (["--kubeconfig", self.kubeconfig] if self.kubeconfig else [])
            + (["--context", self.context] if self.context else [])
        )

    def namespaced_argv(self) -> list[str]:
        return self.global_argv() + ["--namespace", self.namespace]

    def version(self) -> list[str]:
        return self.global_argv() + ["version", f"--request-timeout={REQUEST_TIMEOUT}"]

    def create_namespace(self) -> list[str]:
        return self.global_argv() + ["create", "namespace", self.namespace]

    def delete_namespace(self, timeout: int) -> list[str]:
        return self.global_argv() + ["delete", "namespace", self.namespace, "--wait=true", f"--timeout={timeout}s"]

    def apply_kustomize(self, overlay: Path) -> list[str]:
        return self.namespaced_argv() + ["apply", "-k", str(overlay)]

    def statefulset_names(self) -> list[str]:
        return self.namespaced_argv() + [
            "get",
            "statefulsets",
            "--selector",
            SELECTOR,
            "--output",
            "jsonpath={.items[*].metadata.name}",
        ]

    def ready_replicas(self, statefulset: str) -> list[str]:
        return self.namespaced_argv() + [
            "get", "statefulset", statefulset, "--output", "jsonpath={.status.readyReplicas}"
        ]

    def exec(self, pod: str, argv: list[str]) -> list[str]:
        return self.namespaced_argv() + ["exec", pod, "--", *argv]

    def scale(self, statefulset: str, replicas: int) -> list[str]:
        return self.namespaced_argv() + ["scale", f"statefulset/{statefulset}", f"--replicas={replicas}"]

    def wait_deleted(self, pod: str, timeout: int) -> list[str]:
        return self.namespaced_argv() + ["wait", "--for=delete", f"pod/{pod}", f"--timeout={timeout}s"]

    def delete_statefulset(self, statefulset: str, timeout: int) -> list[str]:
        """Foreground cascade: returns once the pods are gone; the PVCs stay (volumeClaimTemplates are retained)."""
        return self.namespaced_argv() + [
            "delete",
            f"statefulset/{statefulset}",
            "--cascade=foreground",
            "--wait=true",
            f"--timeout={timeout}s",
        ]


@dataclass(frozen=True)
class Helm:
    """helm argv for one context and namespace."""

    program: str
    context: str | None
    namespace: str
    kubeconfig: str | None = None

    def scope_argv(self) -> list[str]:
        return (
            ["--namespace", self.namespace]
            + (["--kubeconfig", self.kubeconfig] if self.kubeconfig else [])
            + (["--kube-context", self.context] if self.context else [])
        )

    def upgrade_install(self, chart: Path, values: Path | None) -> list[str]:
        """Installs the release, or after the StatefulSet was deleted, recreates what is missing."""
        values_args = ["--values", str(values)] if values else []
        return [self.program, "upgrade", "--install", RELEASE, str(chart), *values_args, *self.scope_argv()]

    def uninstall(self, timeout: int) -> list[str]:
        return [self.program, "uninstall", RELEASE, "--wait", f"--timeout={timeout}s", *self.scope_argv()]


def deploy_source(root: Path, via: str, env: str) -> Path:
    """overlays/<env> for kustomize, chart/ci/<env>-values.yaml for helm; a UserError when it does not exist."""
    path = Profile("overlay" if via == "kustomize" else "chart", env, root).path
    if not path.exists():
        raise UserError(f"{path.relative_to(root)} does not exist (--via {via}, environment {env})")
    return path


def new_namespace() -> str:
    return f"kz-smoke-{secrets.token_hex(3)}"


class KubeTarget(Target):
    """The ensemble as a StatefulSet in a namespace of its own on a reachable cluster."""

    def __init__(
        self,
        env: str,
        via: str,
        kubectl: Kubectl,
        helm: Helm | None = None,
        root: Path = REPO_ROOT,
        rollout_timeout: int = 600,
        progress: Callable[[str], None] = print,
    ):
        if via not in ("kustomize", "helm"):
            raise UserError(f"--via {via}: expected kustomize or helm")
        if via == "helm" and helm is None:
            raise UserError("--via helm needs helm")
        self.env = env
        self.via = via
        self.kubectl = kubectl
        self.helm = helm
        self.root = root
        self.rollout_timeout = rollout_timeout
        self.progress = progress
        self.statefulset = ""
        self.replicas = self.members

    def describe(self) -> str:
        where = self.kubectl.context or (f"kubeconfig {self.kubectl.kubeconfig}" if self.kubectl.kubeconfig else "")
        source = self.source().relative_to(self.root) if self.source().is_relative_to(self.root) else self.source()
        return f"{where or 'current context'}, namespace {self.kubectl.namespace}: {source} via {self.via}"

    def source(self) -> Path:
        return deploy_source(self.root, self.via, self.env)

    # -- the argv of each step (pure: tested without a cluster) --------------------------------------------------

    def apply_command(self) -> list[str]:
        if self.via == "kustomize":
            return self.kubectl.apply_kustomize(self.source())
        values = self.source()
        return self.helm.upgrade_install(self.root / "chart", values if values.is_file() else None)

    def stop_commands(self, member: int) -> list[list[str]]:
        if member != self.replicas - 1:
            raise UserError(
                f"a StatefulSet loses its highest ordinal first: cannot stop member {member} while {self.replicas} run"
            )
        pod = self.pod(member)
        return [self.kubectl.scale(self.statefulset, member), self.kubectl.wait_deleted(pod, KUBECTL_TIMEOUT)]

    def start_command(self, members: list[int]) -> list[str]:
        wanted = max(members) + 1
        if sorted(members) != list(range(self.replicas, wanted)):
            raise UserError(
                f"can only start the stopped top ordinals {list(range(self.replicas, self.members))}, not {members}"
            )
        return self.kubectl.scale(self.statefulset, wanted)

    def pod(self, member: int) -> str:
        return f"{self.statefulset}-{member}"

    # -- Target -------------------------------------------------------------------------------------------------

    def deploy(self) -> None:
        self.progress(f"smoke: creating namespace {self.kubectl.namespace}")
        run(self.kubectl.create_namespace(), timeout=KUBECTL_TIMEOUT)
        self.apply_and_wait()

    def exec(self, member: int, argv: list[str], timeout: float) -> Result:
        try:
            return run(self.kubectl.exec(self.pod(member), argv), check=False, timeout=timeout)
        except UserError as exc:  # kubectl timed out
            return Result(124, "", str(exc))

    def stop(self, member: int) -> None:
        for command in self.stop_commands(member):
            run(command, timeout=KUBECTL_TIMEOUT + 30)
        self.replicas = member

    def start(self, members: list[int]) -> None:
        run(self.start_command(members), timeout=KUBECTL_TIMEOUT)
        self.replicas = max(members) + 1

    def remove_ensemble(self) -> None:
        run(self.kubectl.delete_statefulset(self.statefulset, KUBECTL_TIMEOUT), timeout=KUBECTL_TIMEOUT + 30)

    def recreate_ensemble(self) -> None:
        self.replicas = self.members
        self.apply_and_wait()

    def teardown(self, keep_volumes: bool) -> None:
        if keep_volumes:
            if self.statefulset:
                run(
                    self.kubectl.delete_statefulset(self.statefulset, KUBECTL_TIMEOUT),
                    check=False,
                    timeout=KUBECTL_TIMEOUT + 30,
                )
            self.progress(
                f"smoke: kept namespace {self.kubectl.namespace} with its PVCs; delete it with "
                f"`{' '.join(self.kubectl.delete_namespace(300))}`"
            )
            return
        if self.via == "helm":
            run(self.helm.uninstall(KUBECTL_TIMEOUT), check=False, timeout=KUBECTL_TIMEOUT + 30)
        result = run(self.kubectl.delete_namespace(300), check=False, timeout=330)
        if result.code != 0 and "NotFound" not in result.stderr:
            self.progress(f"smoke: deleting namespace {self.kubectl.namespace} failed: {result.stderr.strip()}")

    # -- plumbing -----------------------------------------------------------------------------------------------

    def apply_and_wait(self) -> None:
        run(self.apply_command(), timeout=300)
        names = run(self.kubectl.statefulset_names(), timeout=KUBECTL_TIMEOUT).stdout.split()
        if len(names) != 1:
            raise UserError(f"expected one StatefulSet labelled {SELECTOR} in {self.kubectl.namespace}, found {names}")
        self.statefulset = names[0]
        self.wait_for_rollout()

    def wait_for_rollout(self) -> None:
        """Poll readyReplicas with a progress line until all members are Ready, bounded by rollout_timeout."""
        start = time.monotonic()
        last = None
        while True:
            ready = run(self.kubectl.ready_replicas(self.statefulset), timeout=KUBECTL_TIMEOUT).stdout.strip() or "0"
            elapsed = time.monotonic() - start
            if ready != last:
                self.progress(f"smoke: statefulset/{self.statefulset}: {ready}/{self.members} ready ({elapsed:.0f} s)")
                last = ready
            if ready == str(self.members):
                return
            if elapsed > self.rollout_timeout:
                raise UserError(
                    f"statefulset/{self.statefulset} in {self.kubectl.namespace}: only {ready}/"
                    f"{self.members} ready after {self.rollout_timeout} s; see `kubectl describe pods` "
                    f"in that namespace"
                )
            time.sleep(5)


def check_reachable(kubectl: Kubectl) -> None:
    """One clear line instead of a hang when the cluster does not answer."""
    result = run(kubectl.version(), check=False, timeout=30)
    if result.code != 0:
        why = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.code}"
        where = f"context {kubectl.context}" if kubectl.context else "the current kubectl context"
        raise UserError(f"cluster unreachable ({where}): {why}")
