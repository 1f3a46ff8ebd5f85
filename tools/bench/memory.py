"""Resident memory, as the image, cluster and real-node sections read it: VmRSS from /proc/<pid>/status."""

from __future__ import annotations

from pathlib import Path


def vm_rss_mib(status: str) -> float | None:
    """The VmRSS line of a /proc/<pid>/status text, in MiB; None for a process without memory (a zombie)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def rss_mib(pids: dict[str, int]) -> dict[str, float]:
    """Resident memory of each named process on the host that has any, MiB."""
    sizes = {name: vm_rss_mib(Path(f"/proc/{pid}/status").read_text()) for name, pid in pids.items()}
    return {name: mib for name, mib in sizes.items() if mib is not None}


def breakdown(sizes: dict[str, float]) -> str:
    """'kube-apiserver 260, etcd 47, ...': the largest first, MiB."""
    return ", ".join(f"{name} {mib:.0f}" for name, mib in sorted(sizes.items(), key=lambda item: -item[1]))
