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
from collections.abc import Callable, Sequence
from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.base.run import Result
from tools.cli.helm import Helm
from tools.cli.kubectl import TIMEOUT as KUBECTL_TIMEOUT
from tools.cli.kubectl import Kubectl
from tools.smoke.target import Target

RELEASE = "zookeeper"  # the helm release; the overlays' instance label has the same value
SELECTOR = f"app.kubernetes.io/instance={RELEASE}"


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

    # -- what the steps run --------------------------------------------------------------------------------------

    def apply(self, set_values: Sequence[str] = (), check: bool = True) -> Result:
        """`kubectl apply -k overlays/<env>`, or `helm upgrade --install` with chart/ci/<env>-values.yaml and any
        `--set` given (helm only)."""
        if self.via == "kustomize":
            if set_values:
                raise UserError(f"--set {' '.join(set_values)}: only the chart takes values")
            return self.kubectl.apply(directory=self.source(), check=check)
        values = self.source()
        return self.helm.upgrade_install(RELEASE, self.root / "chart", values=[values] if values.is_file() else [],
                                         set_values=set_values, check=check)

    def pod(self, member: int) -> str:
        return f"{self.statefulset}-{member}"

    def find_statefulset(self) -> list[str]:
        return self.kubectl.names("statefulsets", selector=SELECTOR)

    def delete_statefulset(self, check: bool = True) -> Result:
        """Foreground cascade: returns once the pods are gone; the PVCs stay (volumeClaimTemplates are retained)."""
        return self.kubectl.delete(f"statefulset/{self.statefulset}", cascade="foreground", timeout=KUBECTL_TIMEOUT,
                                   check=check)

    # -- Target -------------------------------------------------------------------------------------------------

    def deploy(self) -> None:
        self.progress(f"smoke: creating namespace {self.kubectl.namespace}")
        self.kubectl.create_namespace()
        self.apply_and_wait()

    def exec(self, member: int, argv: list[str], timeout: float) -> Result:
        try:
            return self.kubectl.exec(self.pod(member), argv, timeout, check=False)
        except UserError as exc:  # kubectl timed out
            return Result(124, "", str(exc))

    def stop(self, member: int) -> None:
        if member != self.replicas - 1:
            raise UserError(
                f"a StatefulSet loses its highest ordinal first: cannot stop member {member} while {self.replicas} run"
            )
        self.kubectl.scale(self.statefulset, member)
        self.kubectl.wait(f"pod/{self.pod(member)}", timeout=KUBECTL_TIMEOUT)
        self.replicas = member

    def start(self, members: list[int]) -> None:
        wanted = max(members) + 1
        if sorted(members) != list(range(self.replicas, wanted)):
            raise UserError(
                f"can only start the stopped top ordinals {list(range(self.replicas, self.members))}, not {members}"
            )
        self.kubectl.scale(self.statefulset, wanted)
        self.replicas = wanted

    def remove_ensemble(self) -> None:
        self.delete_statefulset()

    def recreate_ensemble(self) -> None:
        self.replicas = self.members
        self.apply_and_wait()

    def teardown(self, keep_volumes: bool) -> None:
        if keep_volumes:
            if self.statefulset:
                self.delete_statefulset(check=False)
            self.progress(
                f"smoke: kept namespace {self.kubectl.namespace} with its PVCs; delete it with "
                f"`{self.kubectl.command_line(lambda kubectl: kubectl.delete_namespace(timeout=300))}`"
            )
            return
        if self.via == "helm":
            self.helm.uninstall(RELEASE, KUBECTL_TIMEOUT, check=False)
        result = self.kubectl.delete_namespace(timeout=300, check=False)
        if result.code != 0 and "NotFound" not in result.stderr:
            self.progress(f"smoke: deleting namespace {self.kubectl.namespace} failed: {result.stderr.strip()}")

    # -- plumbing -----------------------------------------------------------------------------------------------

    def apply_and_wait(self) -> None:
        self.apply()
        names = self.find_statefulset()
        if len(names) != 1:
            raise UserError(f"expected one StatefulSet labelled {SELECTOR} in {self.kubectl.namespace}, found {names}")
        self.statefulset = names[0]
        self.wait_for_rollout()

    def wait_for_rollout(self) -> None:
        """Poll readyReplicas with a progress line until all members are Ready, bounded by rollout_timeout."""
        start = time.monotonic()
        last = None
        while True:
            ready = self.kubectl.jsonpath("statefulset", self.statefulset, "{.status.readyReplicas}").strip() or "0"
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
    result = kubectl.version(check=False)
    if result.code != 0:
        why = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.code}"
        where = f"context {kubectl.context}" if kubectl.context else "the current kubectl context"
        raise UserError(f"cluster unreachable ({where}): {why}")
