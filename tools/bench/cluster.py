"""Cluster benchmarks (`nox -s bench` sections): a fresh control plane's start, every profile's scenario on it, RAM
(`cluster`); a real node's start, overlay-kind's apply to Ready on it and the node's RAM (`real-node`).

Each runs its own cluster in a temporary directory (the binaries must be built: `nox -s cluster -- up` once, with
`--node real` for the real node), so a cluster the user keeps running is not disturbed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tools.base.errors import UserError
from tools.base.profiles import all_profiles
from tools.cli.helm import Helm
from tools.cluster import build
from tools.cluster.control_plane import LocalCluster
from tools.cluster.node import host, real
from tools.smoke.scenarios.kube import KubeScenario
from tools.smoke.targets.kube import KubeTarget, new_namespace

START_ROWS = [
    ("etcd", "cluster: etcd healthy"),
    ("apiserver_ready", "cluster: kube-apiserver /readyz ok"),
    ("nodes_ready", "cluster: 3 kwok nodes Ready"),
    ("up", "cluster: up, default ServiceAccount made (`up` as typed)"),
]


def rss_mib(pids: dict[str, int]) -> dict[str, float]:
    """Resident memory of each process, MiB (from /proc/<pid>/status)."""
    sizes = {}
    for name, pid in pids.items():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes[name] = int(line.split()[1]) / 1024
    return sizes


def run() -> list[tuple[str, str]]:
    if not build.built():
        raise UserError("cluster benchmark: the binaries are not built; run `nox -s cluster -- up` once")
    rows = [("cluster: load average at start (1, 5, 15 min)", " ".join(f"{x:.1f}" for x in os.getloadavg()))]
    with tempfile.TemporaryDirectory(prefix="kz-bench-cluster-") as tmp:
        cluster = LocalCluster(Path(tmp) / "state", progress=lambda line: None)
        info = cluster.up(nodes=3, zones=3)
        try:
            rows += [(label, f"{info.timings[key]:.1f} s") for key, label in START_ROWS]
            idle = rss_mib({name: pid for name, pid in cluster.running().items() if pid})
            rows.append(("cluster: RAM idle (RSS of the 5 processes)", f"{sum(idle.values()):.0f} MiB"))
            for profile in all_profiles():
                via = "kustomize" if profile.source == "overlay" else "helm"
                kubectl = cluster.kubectl.with_namespace(new_namespace())
                helm = Helm.like(kubectl) if via == "helm" else None
                target = KubeTarget(profile.env, via, kubectl, helm, progress=lambda line: None)
                try:
                    report = KubeScenario(target, progress=lambda line: None).run()
                finally:
                    target.teardown(keep_volumes=False)
                if not report.ok:
                    raise UserError(
                        f"cluster benchmark: {profile.name}: {report.failed_step.name} failed: "
                        f"{report.failed_step.detail}"
                    )
                t = report.timings
                rows.append(
                    (
                        f"cluster: {profile.name} apply->rollout / drain / rolling update / all steps",
                        f"{t['apply_to_rollout']:.1f} / {t['drain']:.1f} / {t['rolling_update']:.1f} / "
                        f"{t['scenario_wall']:.1f} s",
                    )
                )
            busy = rss_mib({name: pid for name, pid in cluster.running().items() if pid})
            rows.append(
                (
                    "cluster: RAM after every profile (RSS of the 5 processes)",
                    f"{sum(busy.values()):.0f} MiB "
                    f"({', '.join(f'{n} {m:.0f}' for n, m in sorted(busy.items(), key=lambda x: -x[1]))})",
                )
            )
        finally:
            cluster.down(quiet=True)
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name:62} {value}")


def cgroup_memory_mib() -> float:
    """Memory charged to the real node's pods (the kubelet's kubepods cgroup, cgroup v1 or v2), MiB."""
    for path in (host.CGROUP_ROOT / "memory" / host.KUBEPODS / "memory.usage_in_bytes",
                 host.CGROUP_ROOT / host.KUBEPODS / "memory.current"):
        if path.exists():
            return int(path.read_text()) / 2**20
    return 0.0


def real_node_run() -> list[tuple[str, str]]:
    """The real node: its start, `kubectl apply -k overlays/kind` to three Ready members on it, its RAM."""
    rows = [("real node: load average at start (1, 5, 15 min)", " ".join(f"{x:.1f}" for x in os.getloadavg()))]
    with tempfile.TemporaryDirectory(prefix="kz-bench-node-", dir="/tmp") as tmp:  # a short containerd socket path
        cluster = LocalCluster(Path(tmp) / "state", progress=lambda line: None)
        info = cluster.up(nodes=3, zones=3, real_node=True)
        try:
            if not info.real_node:
                raise UserError(f"real-node benchmark: no real node here: {info.real_node_skipped}")
            rows += [
                ("real node: images loaded into its containerd", f"{info.timings['images_loaded']:.1f} s"),
                ("real node: Ready after its start (containerd, images imported, kubelet)",
                 f"{info.timings['real_node_ready']:.1f} s"),
                ("real node: kubelet started to Node Ready", f"{info.timings['kubelet_to_node_ready']:.1f} s"),
                ("real node: whole cluster up (`up --node real` as typed)", f"{info.timings['up']:.1f} s"),
            ]
            node_pids = {name: pid for name, pid in cluster.running().items() if pid and name in real.PROCESSES}
            idle = rss_mib(node_pids)
            rows.append(("real node: RAM idle (RSS of its 5 processes)", f"{sum(idle.values()):.0f} MiB"))
            kubectl = cluster.kubectl.with_namespace(new_namespace())
            target = KubeTarget("kind", "kustomize", kubectl, progress=lambda line: None)
            try:
                scenario = KubeScenario(target, progress=lambda line: None, nodes="real")
                scenario.steps = lambda: [(name, action) for name, action in KubeScenario.steps(scenario)
                                          if name in ("namespace-restricted", "apply-and-rollout", "quorum")]
                report = scenario.run()
                if not report.ok:
                    failed = report.failed_step
                    raise UserError(f"real-node benchmark: {failed.name} failed: {failed.detail}")
                rows.append(("real node: overlay-kind apply -> 3 members Ready",
                             f"{report.timings['apply_to_rollout']:.1f} s"))
                busy = rss_mib(node_pids)
                all_pids = rss_mib({name: pid for name, pid in cluster.running().items() if pid})
                pods = cgroup_memory_mib()
                rows += [
                    ("real node: RAM with 3 members (its processes + the pods' cgroup)",
                     f"{sum(busy.values()) + pods:.0f} MiB ({', '.join(f'{n} {m:.0f}' for n, m in busy.items())}, "
                     f"pods {pods:.0f})"),
                    ("real node: RAM of the whole cluster with 3 members", f"{sum(all_pids.values()) + pods:.0f} MiB"),
                ]
            finally:
                target.teardown(keep_volumes=False)
        finally:
            cluster.down(quiet=True)
    return rows
