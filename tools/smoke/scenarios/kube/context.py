"""The shared context every Kubernetes step gets: the target, what the run has done so far, and the small queries
the step families share (the member pods, a rollout's status, the rendered manifests)."""

from __future__ import annotations

import contextlib

import yaml

from tools.base.contract import KWOK_NODE_ANNOTATION
from tools.base.run import CommandError
from tools.smoke.scenario import Scenario, StepFailed, Timeouts
from tools.smoke.targets.kube import RELEASE, SELECTOR, KubeTarget


class KubeContext(Scenario):
    """The tutorial's scenario (its ZooKeeper helpers: quorum, reads, four-letter words) with the cluster's state."""

    def __init__(
        self,
        target: KubeTarget,
        *,
        timeouts: Timeouts | None = None,
        progress=print,
        nodes: str | None = None,
        not_run: str = "",
    ):
        super().__init__(target, timeouts or Timeouts(), progress)
        self.kube = target
        self.cordoned: list[str] = []
        self.own_secret: str | None = None  # the admin Secret the scenario created as the README tells users
        self.containers_run: bool | None = None
        self.update_configmaps: set[str] = set()  # made by the rolling update's changed setting, not by the overlay
        # The local cluster: keep the members on its "kwok" or its "real" nodes (the others cordoned for the run).
        self.nodes = nodes
        self.not_run = not_run or "members run no containers on kwok nodes; --target local runs this step"
        self.report.profile = f"{'overlay' if target.via == 'kustomize' else 'chart'}-{target.env}"

    # -- where the members run ----------------------------------------------------------------------------------------

    def members_run_containers(self) -> bool:
        """False when every node the members are on is a kwok node (no kubelet, no containers)."""
        if self.containers_run is None and self.nodes:
            self.containers_run = self.nodes == "real"
        if self.containers_run is None:
            nodes = self.get_json("nodes", namespaced=False)
            self.containers_run = not nodes or not all(
                KWOK_NODE_ANNOTATION in n["metadata"].get("annotations", {}) for n in nodes
            )
        return self.containers_run

    @property
    def arrange_nodes(self) -> bool:
        """Only kwok nodes, which run nothing, are cordoned by the scenario; a cluster with real nodes never is."""
        return not self.members_run_containers()

    # -- kubectl's failures as the step's --------------------------------------------------------------------------

    @contextlib.contextmanager
    def could(self, what: str):
        """A kubectl call's failure is the step's failure, with the API server's own message."""
        try:
            yield
        except CommandError as exc:
            raise StepFailed(f"could not {what}: {exc.result.stderr.strip()}") from None

    # -- queries ---------------------------------------------------------------------------------------------------

    def get_json(self, kind: str, *, selector: str | None = None, namespaced: bool = True) -> list[dict]:
        with self.could(f"list {kind}"):
            return self.kube.kubectl.items(kind, selector=selector, namespaced=namespaced)

    def pods(self) -> list[dict]:
        return self.get_json("pods", selector=SELECTOR)

    def pod_json(self, pod: str) -> dict:
        with self.could(f"get {pod}"):
            return self.kube.kubectl.get_json("pod", pod)

    def pod_ready(self, pod: str) -> bool:
        conditions = self.pod_json(pod)["status"].get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def restart_count(self, pod: str) -> int:
        return sum(s.get("restartCount", 0) for s in self.pod_json(pod)["status"].get("containerStatuses", []))

    def configmap_names(self) -> set[str]:
        return {c["metadata"]["name"] for c in self.get_json("configmaps")}

    def rollout_status(self) -> None:
        timeout = self.kube.rollout_timeout
        result = self.kube.kubectl.rollout_status(self.kube.statefulset, timeout, check=False)
        if result.code != 0:
            raise StepFailed(
                f"rollout not complete within {timeout} s: {result.stderr.strip()}; {self.pending_reasons()}"
            )

    def pending_reasons(self) -> str:
        """The scheduler's own message for each Pending member."""
        reasons = []
        for pod in self.pods():
            for condition in pod["status"].get("conditions", []):
                if condition["type"] == "PodScheduled" and condition["status"] != "True":
                    reasons.append(f"{pod['metadata']['name']} Pending: {condition.get('message', '')}")
        return "; ".join(reasons) or "no member Pending"

    # -- the profile's manifests -----------------------------------------------------------------------------------

    def rendered(self) -> str:
        if self.kube.via == "helm":
            values = self.kube.source()
            return self.kube.helm.template(self.kube.root / "chart", release=RELEASE,
                                           values=[values] if values.is_file() else [])
        return self.kube.kubectl.kustomize(self.kube.source())

    def rendered_image(self) -> str:
        for document in yaml.safe_load_all(self.rendered()):
            if document and document.get("kind") == "StatefulSet":
                image = document["spec"]["template"]["spec"]["containers"][0]["image"]
                return image.split("@", 1)[0]
        raise StepFailed("no StatefulSet in the rendered manifests")

    def apply_words(self) -> str:
        source = self.kube.source().relative_to(self.kube.root)
        if self.kube.via == "helm":
            return "helm upgrade --install zookeeper chart/" + (f" -f {source}" if source.suffix else "")
        return f"kubectl apply -k {source}"
