"""Cluster benchmark (a `nox -s bench` section): a fresh control plane's start, every profile's scenario on it, RAM.

Runs its own cluster in a temporary directory (the binaries must be built: `nox -s cluster -- up` once), so a
cluster the user keeps running is not disturbed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tools import kustomize
from tools.cluster import build
from tools.cluster.control_plane import LocalCluster
from tools.errors import UserError
from tools.profiles import all_profiles
from tools.smoke.kube import Helm, Kubectl, KubeTarget, new_namespace
from tools.smoke.kube_checks import KubeScenario

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
            from tools import helm as helm_tool

            for profile in all_profiles():
                via = "kustomize" if profile.source == "overlay" else "helm"
                namespace = new_namespace()
                kubectl = Kubectl(kustomize.kubectl(), None, namespace, str(cluster.kubeconfig))
                helm = Helm(helm_tool.helm(), None, namespace, str(cluster.kubeconfig)) if via == "helm" else None
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
