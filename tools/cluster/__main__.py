"""`python -m tools.cluster up|down|status`: a local Kubernetes control plane with kwok nodes on 127.0.0.1."""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.base.errors import cli
from tools.cluster.control_plane import LocalCluster, default_dir, listeners


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s cluster --", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--nodes", type=int, default=3, help="kwok nodes (default 3; 1 for the laptop profiles)")
    parser.add_argument("--zones", type=int, default=3, help="zones the nodes are spread over (default 3)")
    parser.add_argument(
        "--node",
        choices=("kwok", "real"),
        default="kwok",
        help="real: also one real node (containerd, kubelet, kube-proxy, CoreDNS; root, Debian's containerd and "
        "containernetworking-plugins) that runs the project's image; default kwok nodes only",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help=f"state directory (default $KZ_CLUSTER_DIR or {default_dir()})"
    )
    return parser.parse_args(argv)


def status(cluster: LocalCluster) -> int:
    info = cluster.info()
    running = cluster.running()
    if info is None and not running:
        print(f"cluster: not running (no cluster in {cluster.root}); start one with `nox -s cluster -- up`")
        return 3
    for name, pid in running.items():
        print(f"  {name:<24} {'pid ' + str(pid) if pid else 'NOT RUNNING'}")
    if not cluster.healthy():
        print(f"cluster: not healthy; logs in {cluster.root / 'logs'}; `nox -s cluster -- down` cleans it up")
        return 1
    for process, address, port in listeners({n: p for n, p in running.items() if p}):
        print(f"  listening: {process} on {address}:{port}")
    print(cluster.kubectl.get("nodes", columns=["topology.kubernetes.io/zone", "type"]).stdout.rstrip())
    if info.real_node_skipped:
        print(f"cluster: real node skipped: {info.real_node_skipped.replace(chr(10), '; ')}")
    print(f"cluster: healthy, Kubernetes {info.kubernetes_version} at https://127.0.0.1:{info.ports['apiserver']}")
    print_export(cluster)
    return 0


def print_export(cluster: LocalCluster) -> None:
    print(f"export KUBECONFIG={cluster.kubeconfig}")


@cli
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cluster = LocalCluster(args.dir)
    if args.command == "up":
        cluster.up(args.nodes, args.zones, real_node=args.node == "real")
        print_export(cluster)
        return 0
    if args.command == "down":
        cluster.down()
        return 0
    return status(cluster)


if __name__ == "__main__":
    raise SystemExit(main())
