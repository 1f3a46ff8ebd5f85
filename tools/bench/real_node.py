"""The `real-node` section: the real node's start, `kubectl apply -k overlays/kind` to three Ready members on it,
and the node's RAM. Its cluster is the cluster section's fresh_cluster with a real node (the binaries must be built:
`nox -s cluster -- up --node real` once)."""

from __future__ import annotations

from tools.base import progress
from tools.base.errors import UserError
from tools.bench.cluster import fresh_cluster, processes
from tools.bench.measure import Measure, Options
from tools.bench.memory import breakdown, rss_mib
from tools.bench.report import nested
from tools.cluster.node import host, real
from tools.smoke.scenarios.kube import KubeScenario
from tools.smoke.targets.kube import KubeTarget, new_namespace

START = [
    ("images_loaded", "images loaded into its containerd"),
    ("real_node_ready", "Ready after its start (containerd, images imported, kubelet)"),
    ("kubelet_to_node_ready", "kubelet started to Node Ready"),
    ("up", "whole cluster up (`up --node real` as typed)"),
]
STEPS = ("namespace-restricted", "apply-and-rollout", "quorum")  # of the cluster scenario


def cgroup_memory_mib() -> float:
    """Memory charged to the real node's pods (the kubelet's kubepods cgroup, cgroup v1 or v2), MiB."""
    for path in (host.CGROUP_ROOT / "memory" / host.KUBEPODS / "memory.usage_in_bytes",
                 host.CGROUP_ROOT / host.KUBEPODS / "memory.current"):
        if path.exists():
            return int(path.read_text()) / 2**20
    return 0.0


def run(options: Options) -> list[Measure]:
    """One pass whatever --repeat says."""
    # /tmp: containerd's socket path must stay short
    with fresh_cluster("a control plane with a real node", real_node=True, parent="/tmp") as (cluster, info):
        if not info.real_node:
            raise UserError(f"real-node benchmark: no real node could start: {info.real_node_skipped}")
        measures = [Measure(label, info.timings[key], "s") for key, label in START]
        node = {name: pid for name, pid in processes(cluster).items() if name in real.PROCESSES}
        idle = rss_mib(node)
        measures.append(Measure("RAM idle (RSS of its processes)", sum(idle.values()), "MiB", note=breakdown(idle)))
        kubectl = cluster.kubectl.with_namespace(new_namespace())
        target = KubeTarget("kind", "kustomize", kubectl, progress=nested)
        try:
            scenario = KubeScenario(target, progress=nested, nodes="real")
            scenario.steps = lambda: [(name, action) for name, action in KubeScenario.steps(scenario)
                                      if name in STEPS]
            with progress.step("overlay kind applied to 3 Ready members on the real node"):
                report = scenario.run()
            if not report.ok:
                raise UserError(f"real-node benchmark: {report.failed_step.name} failed: {report.failed_step.detail}")
            busy, pods = rss_mib(node), cgroup_memory_mib()
            whole = rss_mib(processes(cluster))
            measures += [
                Measure("overlay kind apply -> 3 members Ready", report.timings["apply_to_rollout"], "s"),
                Measure("RAM with 3 members (its processes + the pods' cgroup)", sum(busy.values()) + pods, "MiB",
                        note=f"{breakdown(busy)}, pods {pods:.0f}"),
                Measure("RAM of the whole cluster with 3 members", sum(whole.values()) + pods, "MiB"),
            ]
        finally:
            target.teardown(keep_volumes=False)
    return measures
