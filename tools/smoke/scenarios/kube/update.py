"""Updates: a rolling update watched pod by pod (at most one member unavailable, every member replaced, where
members run a writer's acknowledged writes all kept), a second apply (or `helm rollback`), and `helm upgrade` from
the previous commit's chart."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from pathlib import Path

import yaml

from tools import REPO_ROOT
from tools.base.run import Result, run
from tools.cli import zookeeper
from tools.cli.kubectl import TIMEOUT as KUBECTL_TIMEOUT
from tools.cli.kubectl import Kubectl
from tools.smoke.scenario import NotRun, StepFailed
from tools.smoke.scenarios.kube.context import KubeContext
from tools.smoke.scenarios.kube.deploy import create_admin_secret
from tools.smoke.targets.kube import RELEASE, SELECTOR
from tools.smoke.writer import ExecTransport, KazooTransport, Writer

ROLLED_SUFFIX = "-rolled"
WRITER_ROOT = "/kz-writer-rolling-update"


def rolling_update(s: KubeContext) -> str:
    start = time.monotonic()
    change = "a changed setting" if s.members_run_containers() else "a new image tag"
    writer = None
    if s.members_run_containers():
        # every member serving first: the member the previous step evicted may still be on its way back
        s.wait_for_quorum(s.everyone, "before_rolling_update")
        writer = cluster_writer(s, WRITER_ROOT)
    configmaps_before = s.configmap_names()
    written = ""
    try:
        with UnavailabilityWatch(s.kube.kubectl, s.kube.members) as watch, writer or contextlib.nullcontext():
            result = update(s)
            if result.code != 0:
                raise StepFailed(f"the update ({change}) failed: {result.stderr.strip()}")
            s.rollout_status()
        s.report.timings["rolling_update"] = time.monotonic() - start
        if writer:
            s.wait_for_quorum(s.everyone, "after_rolling_update")
            written = f"; a writer during it: {writer.verify()}"
            s.report.measurements["rolling_update_writer"] = writer.verdict.measurements() if writer.verdict else {}
    finally:
        if writer:
            writer.close()
    # kustomize names the changed setting's ConfigMap by its hash: the update made it, not the overlay, so the
    # overlay's delete leaves it (as `kubectl apply` without --prune does for any user)
    s.update_configmaps = s.configmap_names() - configmaps_before
    if watch.max_unavailable > 1:
        raise StepFailed(
            f"{watch.max_unavailable} members unavailable at once during the rolling update ({watch.worst})"
        )
    if watch.restarted < s.kube.members:
        raise StepFailed(f"only {watch.restarted} of {s.kube.members} members were replaced")
    return (
        f"{change}: {watch.restarted} members replaced one at a time (at most {watch.max_unavailable} "
        f"unavailable) in {s.report.timings['rolling_update']:.1f} s{written}"
    )


def reapply_or_rollback(s: KubeContext) -> str:
    if s.kube.via == "helm":
        # 0: the revision before the update (revision 1 may be gone: helm keeps 10, and the scaling steps upgrade)
        result = s.kube.helm.rollback(RELEASE, 0, timeout=s.kube.rollout_timeout, check=False)
        words = "helm rollback to the revision before the update"
    else:
        result, words = s.kube.apply(check=False), "a second kubectl apply -k of the same overlay"
    if result.code != 0:
        raise StepFailed(f"{words} failed: {result.stderr.strip()}")
    s.rollout_status()
    images = {c["image"] for p in s.pods() for c in p["spec"]["containers"]}
    if any(image.endswith(ROLLED_SUFFIX) for image in images):
        raise StepFailed(f"{words} left the updated image: {images}")
    return f"{words}: no immutable-field error, rolled back to {', '.join(sorted(images))}"


def upgrade_from_previous_chart(s: KubeContext) -> str:
    """In a fresh namespace: install the chart as it was before its latest change, then upgrade to this one."""
    previous = previous_chart_commit()
    if previous is None:
        raise NotRun("no earlier version of chart/ in this checkout's git history")
    with tempfile.TemporaryDirectory(prefix="kz-previous-chart-") as tmp:
        archive = Path(tmp) / "chart.tar"
        run(["git", "-C", str(REPO_ROOT), "archive", f"--output={archive}", previous, "chart"], timeout=60)
        run(["tar", "-x", "-f", str(archive), "-C", tmp], timeout=60)
        old_chart = Path(tmp) / "chart"
        old_values = old_chart / "ci" / f"{s.kube.env}-values.yaml"
        namespace = f"{s.kube.kubectl.namespace}-up"
        other, other_helm = s.kube.kubectl.with_namespace(namespace), s.kube.helm.with_namespace(namespace)
        with s.could("create the upgrade namespace"):
            other.create_namespace()
        if s.own_secret:
            create_admin_secret(other, s.own_secret)
        try:
            for chart, values, words in (
                (old_chart, old_values, f"installing the chart of {previous[:10]}"),
                (s.kube.root / "chart", s.kube.source(), f"helm upgrade from the chart of {previous[:10]}"),
            ):
                result = other_helm.upgrade_install(RELEASE, chart, values=[values] if values.is_file() else [],
                                                    wait=True, timeout=s.kube.rollout_timeout, check=False)
                if result.code != 0:
                    raise StepFailed(f"{words} failed: {result.stderr.strip()}")
        finally:
            other_helm.uninstall(RELEASE, KUBECTL_TIMEOUT, check=False)
            other.delete_namespace(timeout=KUBECTL_TIMEOUT, check=False)
    return f"helm upgrade from the chart of commit {previous[:10]} to this one: no error, rollout complete"


# -- the update itself ---------------------------------------------------------------------------------------------


def update(s: KubeContext) -> Result:
    """A rolling update: a new image tag on kwok nodes (nothing is pulled), a changed setting where pods run."""
    if s.kube.via == "helm":
        if s.members_run_containers():
            return s.kube.apply(set_values=["zookeeper.logLevel=WARN"], check=False)
        tag = s.rendered_image().rsplit(":", 1)[1]
        return s.kube.apply(set_values=[f"image.tag={tag}{ROLLED_SUFFIX}"], check=False)
    return s.kube.kubectl.apply(manifests=updated_manifests(s), check=False)


def updated_manifests(s: KubeContext) -> str:
    """The overlay under a kustomization that changes a setting (where pods run) or the image tag (kwok nodes)."""
    overlay = s.kube.source().resolve()
    if s.members_run_containers():
        extra = {
            "configMapGenerator": [
                {"name": "zookeeper-config", "behavior": "merge", "literals": ["ZOO_LOG_LEVEL=WARN"]}
            ]
        }
    else:
        name, tag = s.rendered_image().rsplit(":", 1)
        extra = {"images": [{"name": name, "newTag": tag + ROLLED_SUFFIX}]}
    with tempfile.TemporaryDirectory(prefix="kz-rolled-") as tmp:
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [os.path.relpath(overlay, tmp)],  # kustomize refuses absolute paths
            **extra,
        }
        (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        return s.kube.kubectl.kustomize(Path(tmp))


def previous_chart_commit() -> str | None:
    """The commit before the latest one that changed chart/, if chart/ existed there (None otherwise)."""
    git = ["git", "-C", str(REPO_ROOT)]
    latest = run([*git, "log", "-1", "--format=%H", "--", "chart"], check=False, timeout=30).stdout.strip()
    if not latest:
        return None
    exists = run([*git, "cat-file", "-e", f"{latest}~1:chart/Chart.yaml"], check=False, timeout=30)
    if exists.code != 0:
        return None
    return run([*git, "rev-parse", f"{latest}~1"], timeout=30).stdout.strip()


# -- watching it ---------------------------------------------------------------------------------------------------


def cluster_writer(s: KubeContext, root: str) -> Writer:
    """The one writer (tools/smoke/writer.py) with the checks of the local target. Where this process reaches the
    pods (the real node runs them beside it), over kazoo: the writes through the client Service (kube-proxy moves the
    session when a member goes), each member read back at its pod's current address. Elsewhere (a remote cluster),
    through `kubectl exec` (a zkCli.sh per write inside a member). Each step writes under a root of its own: a
    writer numbers its nodes from 1, so another step's nodes under the same root would refuse every create."""
    def members() -> dict[int, str]:
        return {int(pod["metadata"]["name"].rsplit("-", 1)[1]): pod["status"]["podIP"]
                for pod in s.pods() if (pod.get("status") or {}).get("podIP")}

    services = [svc for svc in s.get_json("services") if svc["spec"].get("clusterIP") not in (None, "None")
                and any(port.get("port") == zookeeper.CLIENT_PORT for port in svc["spec"].get("ports") or [])]
    reachable = members()
    if services and reachable and zookeeper.four_letter_at(next(iter(reachable.values())), "ruok") == "imok":
        client = f"{services[0]['spec']['clusterIP']}:{zookeeper.CLIENT_PORT}"
        return Writer(KazooTransport([client], readers=lambda: {member: f"{address}:{zookeeper.CLIENT_PORT}"
                                                                 for member, address in members().items()}),
                      root=root)
    return Writer(ExecTransport(s.target.exec, s.kube.members), root=root)


class UnavailabilityWatch:
    """Watches the members' pods during an update and keeps the most that were unavailable at once."""

    # Fields joined by "|" (kubectl's watch output turns tabs into spaces, which would merge the empty ones).
    TEMPLATE = (
        '{.type}{"|"}{.object.metadata.name}{"|"}{.object.metadata.uid}{"|"}'
        '{.object.metadata.deletionTimestamp}{"|"}'
        '{.object.status.conditions[?(@.type=="Ready")].status}{"\\n"}'
    )

    def __init__(self, kubectl: Kubectl, members: int):
        self.kubectl = kubectl
        self.members = members
        self.available: dict[str, bool] = {}
        self.uids: dict[str, set[str]] = {}
        self.max_unavailable = 0
        self.worst = ""  # the members' states when the most were unavailable
        self.synced = threading.Event()

    @property
    def restarted(self) -> int:
        """Members whose pod was replaced (a new uid) while watched."""
        return sum(1 for uids in self.uids.values() if len(uids) > 1)

    def __enter__(self) -> UnavailabilityWatch:
        self.process = self.kubectl.watch("pods", selector=SELECTOR, template=self.TEMPLATE)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        if not self.synced.wait(30):
            self.process.kill()
            raise StepFailed("watching the pods: no initial list within 30 s")
        return self

    def read(self) -> None:
        for line in self.process.stdout:
            fields = line.strip().split("|")
            if len(fields) != 5:
                continue
            kind, name, uid, deleting, ready = fields
            self.uids.setdefault(name, set()).add(uid)
            self.available[name] = kind != "DELETED" and not deleting and ready == "True"
            if len(self.available) >= self.members:
                self.synced.set()
                unavailable = self.members - sum(self.available.values())
                if unavailable > self.max_unavailable:
                    self.max_unavailable = unavailable
                    self.worst = ", ".join(f"{pod} {'ready' if up else 'down'}" for pod, up in
                                           sorted(self.available.items()))

    def __exit__(self, *exc) -> None:
        time.sleep(1)  # the last events of the rollout
        self.process.terminate()
        self.process.wait(timeout=10)
        self.reader.join(timeout=5)
