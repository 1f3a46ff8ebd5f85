"""The `cluster` section: a fresh control plane's start, every profile's scenario on it, its RAM.

It runs a cluster of its own in a temporary directory (fresh_cluster, which the real-node section shares; the
binaries must be built: `nox -s cluster -- up` once), so a cluster the user keeps running is not disturbed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.base import progress
from tools.base.errors import UserError
from tools.base.profiles import all_profiles
from tools.bench.measure import Measure, Options
from tools.bench.memory import breakdown, rss_mib
from tools.bench.report import nested
from tools.cli.helm import Helm
from tools.cluster import build
from tools.cluster.control_plane import ClusterInfo, LocalCluster
from tools.smoke.scenarios.kube import KubeScenario
from tools.smoke.targets.kube import KubeTarget, new_namespace

START = [
    ("etcd", "etcd healthy"),
    ("apiserver_ready", "kube-apiserver /readyz ok"),
    ("nodes_ready", "3 kwok nodes Ready"),
    ("up", "up, default ServiceAccount made (`up` as typed)"),
]
SCENARIO = [
    ("apply_to_rollout", "apply -> rollout"),
    ("drain", "drain"),
    ("rolling_update", "rolling update"),
    ("scenario_wall", "every step"),
]


@contextmanager
def fresh_cluster(what: str, *, real_node: bool = False, parent: str | None = None) -> Iterator[
        tuple[LocalCluster, ClusterInfo]]:
    """A control plane with 3 kwok nodes in 3 zones (and a real node) in a temporary directory, stopped at the end."""
    prefix = "kz-bench-node-" if real_node else "kz-bench-cluster-"
    with tempfile.TemporaryDirectory(prefix=prefix, dir=parent) as tmp:
        cluster = LocalCluster(Path(tmp) / "state", progress=nested)
        with progress.step(f"starting {what}"):
            info = cluster.up(nodes=3, zones=3, real_node=real_node)
        try:
            yield cluster, info
        finally:
            with progress.step(f"stopping {what}", quiet_under=2):
                cluster.down(quiet=True)


def processes(cluster: LocalCluster) -> dict[str, int]:
    return {name: pid for name, pid in cluster.running().items() if pid}


def run(options: Options) -> list[Measure]:
    """One pass whatever --repeat says: each profile's scenario takes minutes."""
    if not build.built():
        raise UserError("cluster benchmark: the binaries are not built; run `nox -s cluster -- up` once")
    with fresh_cluster("a control plane with 3 kwok nodes") as (cluster, info):
        measures = [Measure(label, info.timings[key], "s") for key, label in START]
        idle = rss_mib(processes(cluster))
        measures.append(Measure("RAM idle (RSS of its processes)", sum(idle.values()), "MiB", note=breakdown(idle)))
        for profile in all_profiles():
            via = "kustomize" if profile.source == "overlay" else "helm"
            namespace = new_namespace()
            kubectl = cluster.kubectl.with_namespace(namespace)
            helm = Helm.like(kubectl) if via == "helm" else None
            target = KubeTarget(profile.env, via, kubectl, helm, progress=nested)
            with progress.step(f"{profile.name}'s scenario on the control plane"):
                try:
                    report = KubeScenario(target, progress=nested).run()
                finally:
                    target.teardown(keep_volumes=False)
            if not report.ok:
                raise UserError(f"cluster benchmark: {profile.name}: {report.failed_step.name} failed: "
                                f"{report.failed_step.detail}")
            measures += [Measure(f"{profile.name}: {label}", report.timings[key], "s") for key, label in SCENARIO]
        busy = rss_mib(processes(cluster))
        measures.append(Measure("RAM after every profile (RSS of its processes)", sum(busy.values()), "MiB",
                                note=breakdown(busy)))
    return measures
