"""One real node beside the kwok ones: containerd, the kubelet, kube-proxy, CoreDNS and local-path-provisioner.

`start` runs them as processes of the cluster (PID files and logs in the cluster's directory, like the control
plane's), every file under <cluster>/node. `stop` takes them down in reverse, removes what is left of the pods
through CRI, unmounts, and puts the machine back as the Snapshot taken before `start` found it (host.py); then it
checks that nothing is left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from tools.base.errors import UserError
from tools.base.run import run
from tools.cluster import build
from tools.cluster.http import http_ok
from tools.cluster.node import config, host, images

PROCESSES = ("containerd", "kubelet", "kube-proxy", "coredns", "local-path-provisioner", "api-forward")  # start order
PORTS = ("kubelet", "kubelet-healthz", "kube-proxy-healthz", "kube-proxy-metrics", "coredns-ready")
SOCKET_PATH_MAX = 100  # unix sockets: 108 bytes with the NUL, less containerd's ".ttrpc" suffix
NEEDED_BINARIES = {
    "containerd": "apt-get install containerd (its service is not used: `up` runs its own containerd)",
    "ctr": "apt-get install containerd",
    "containerd-shim-runc-v2": "apt-get install containerd",
    "runc": "apt-get install runc",
    "iptables": "apt-get install iptables (kube-proxy's iptables mode)",
    "ip": "apt-get install iproute2",
    "mount": "apt-get install mount",
}


def missing_prerequisites(layout: config.Layout) -> list[str]:
    """One line per missing piece (root, containerd, CNI plugins, cgroup access, ...); empty when all are present."""
    missing = []
    if os.geteuid() != 0:
        return ["not root: the kubelet, containerd and the CNI plugins change the host's network and cgroups"]
    for program, hint in NEEDED_BINARIES.items():
        if not shutil.which(program):
            missing.append(f"{program} not found: {hint}")
    absent = [plugin for plugin in config.CNI_PLUGINS if not (config.CNI_BIN_DIR / plugin).is_file()]
    if absent:
        missing.append(
            f"CNI plugins {', '.join(absent)} not in {config.CNI_BIN_DIR}: apt-get install containernetworking-plugins"
        )
    why = host.cgroup_access()
    if why:
        missing.append(f"no cgroup access: {why}")
    if not images.BUSYBOX.is_file() and not images.helper_cached():
        missing.append(f"{images.BUSYBOX} not found: apt-get install busybox-static (the volume helper image)")
    if not shutil.which("gcc") and not images.pause_cached():
        missing.append("gcc not found: apt-get install gcc libc6-dev (the pod sandbox image, built once)")
    if len(str(layout.socket)) > SOCKET_PATH_MAX:
        missing.append(f"the containerd socket path {layout.socket} is too long; use a shorter --dir")
    return missing


class RealNode:
    """The real node of one LocalCluster (which spawns, watches and stops the processes)."""

    def __init__(self, cluster, progress: Callable[[str], None] = print):
        self.cluster = cluster
        self.layout = config.Layout(cluster.root / "node")
        self.progress = progress

    @property
    def snapshot_file(self) -> Path:
        return self.layout.path("host-before.json")

    def kubeconfig(self, user: str) -> Path:
        return self.cluster.root / f"{user}.kubeconfig"

    # -- start ---------------------------------------------------------------------------------------------------

    def start(self, binaries: build.NodeBinaries, ports: dict[str, int]) -> dict[str, float]:
        """Start the node and wait until it is Ready with DNS and volumes served; returns timings (seconds)."""
        start = time.monotonic()
        for sub in ("containerd", "cni/net.d", "cni/ipam", "kubelet", "volumes", "volume-plugins", "pod-logs"):
            self.layout.path(sub).mkdir(parents=True, exist_ok=True)
        host.take().save(self.snapshot_file)
        self._write_configs(ports)
        self._bridge()
        containerd = os.path.realpath(shutil.which("containerd") or "containerd")  # the PID file names the binary
        self.cluster.spawn("containerd", [containerd, "--config", str(self.layout.path("containerd.toml"))])
        self.cluster.wait("containerd", lambda: self._crictl(["info"]).code == 0, 60)
        loaded = images.load_all(shutil.which("ctr") or "ctr", self.layout.socket, self.progress)
        timings = {"images_loaded": round(time.monotonic() - start, 1)}
        self.progress(f"cluster: images in the real node's containerd: {', '.join(loaded)}")
        objects = config.node_objects(self.layout, ports["apiserver"])
        self.cluster.kubectl.apply(manifests=yaml.safe_dump_all(objects), timeout=60)
        kubelet_start = time.monotonic()
        self.cluster.spawn("kubelet", self._kubelet_argv(binaries))
        self.cluster.spawn("kube-proxy", [str(binaries.kube_proxy), f"--config={self.layout.path('kube-proxy.yaml')}"])
        self.cluster.spawn("coredns", [str(binaries.coredns), "-conf", str(self.layout.path("Corefile"))])
        self.cluster.spawn("local-path-provisioner", self._provisioner_argv(binaries))
        self.cluster.spawn("api-forward", self._forward_argv(ports["apiserver"]))
        self.cluster.wait(
            f"the real node {config.NODE_NAME}",
            lambda: self.cluster.nodes_ready([config.NODE_NAME]),
            180,
            watch=PROCESSES,
        )
        timings["real_node_ready"] = round(time.monotonic() - start, 1)  # images included
        timings["kubelet_to_node_ready"] = round(time.monotonic() - kubelet_start, 1)
        self.cluster.wait("CoreDNS", lambda: http_ok(f"http://127.0.0.1:{ports['coredns-ready']}/ready"), 60,
                          watch=("coredns",))
        return timings

    def _write_configs(self, ports: dict[str, int]) -> None:
        ca = self.cluster.root / "pki" / "ca.crt"
        files = {
            "containerd.toml": config.containerd_toml(self.layout),
            "cni/net.d/10-kube-zookeeper.conflist": config.cni_conflist(self.layout),
            "kubelet.yaml": config.kubelet_yaml(self.layout, ports, ca),
            "kube-proxy.yaml": config.kube_proxy_yaml(self.kubeconfig("kube-proxy"), ports),
            "Corefile": config.corefile(self.kubeconfig("coredns"), ports["coredns-ready"]),
            "local-path-config.json": config.local_path_config(self.layout),
            "helper-pod.yaml": yaml.safe_dump(config.HELPER_POD, sort_keys=False),
            "resolv.conf": f"# the real node's pods ask CoreDNS on {config.NODE_IP}; nothing is forwarded upstream\n",
        }
        for name, text in files.items():
            self.layout.path(name).write_text(text)

    def _bridge(self) -> None:
        """The CNI bridge, made before the first pod so the kubelet and CoreDNS can bind its address."""
        if config.BRIDGE in host.links():
            raise UserError(
                f"a network interface {config.BRIDGE} already exists: another real node runs on the host, or one "
                f"was left behind (`ip link delete {config.BRIDGE}` once nothing uses it)"
            )
        run(["ip", "link", "add", config.BRIDGE, "type", "bridge"], timeout=30)
        run(["ip", "addr", "add", f"{config.NODE_IP}/{config.POD_SUBNET.split('/')[1]}", "dev", config.BRIDGE],
            timeout=30)
        run(["ip", "link", "set", config.BRIDGE, "up"], timeout=30)

    def _kubelet_argv(self, binaries: build.NodeBinaries) -> list[str]:
        info = self.cluster.info()
        zone = info.zones.get(config.NODE_NAME, "zone-a") if info else "zone-a"
        return [
            str(binaries.kubelet),
            f"--config={self.layout.path('kubelet.yaml')}",
            f"--kubeconfig={self.kubeconfig('kubelet')}",
            f"--root-dir={self.layout.path('kubelet')}",
            f"--cert-dir={self.layout.path('kubelet', 'pki')}",
            f"--hostname-override={config.NODE_NAME}",
            f"--node-ip={config.NODE_IP}",
            f"--node-labels=topology.kubernetes.io/zone={zone},type=real",
        ]

    def _forward_argv(self, apiserver_port: int) -> list[str]:
        """The pods' way to the API server (forward.py): the bridge address, same port, to loopback."""
        return [
            os.path.realpath(sys.executable),  # the PID file names the binary that runs
            str(Path(__file__).with_name("forward.py")),
            f"{config.NODE_IP}:{apiserver_port}",
            f"127.0.0.1:{apiserver_port}",
        ]

    def _provisioner_argv(self, binaries: build.NodeBinaries) -> list[str]:
        return [
            str(binaries.local_path_provisioner),
            "start",
            f"--kubeconfig={self.kubeconfig('local-path-provisioner')}",
            f"--config={self.layout.path('local-path-config.json')}",
            f"--helper-pod-file={self.layout.path('helper-pod.yaml')}",
            f"--namespace={config.STORAGE_NAMESPACE}",
            f"--configmap-name={config.CONFIG_MAP}",
            f"--service-account-name={config.PROVISIONER_SERVICE_ACCOUNT}",
            f"--provisioner-name={config.PROVISIONER}",
            f"--helper-image={config.HELPER_IMAGE}",
        ]

    # -- stop ----------------------------------------------------------------------------------------------------

    def stop(self, binaries: build.NodeBinaries | None) -> list[str]:
        """Stop the node's processes, remove its pods, mounts and host changes; returns what it stopped.

        Raises UserError naming whatever is still left afterwards."""
        stopped = []
        for name in reversed(PROCESSES[1:]):
            if self.cluster.stop_process(name):
                stopped.append(name)
        if binaries and binaries.kube_proxy.exists():
            run([str(binaries.kube_proxy), "--cleanup"], check=False, timeout=120)
        if self.cluster.running().get("containerd"):
            self._remove_pods()
        if self.cluster.stop_process("containerd"):
            stopped.append("containerd")
        before = host.Snapshot.load(self.snapshot_file)
        self._kill_leftover_processes(before)
        for mount in host.mounts_under(self.layout.root):
            run(["umount", "--lazy", str(mount)], check=False, timeout=60)
        if before is not None:
            done = host.restore(before, config.BRIDGE)
            self.progress(f"cluster: real node: put back: {'; '.join(done) or 'nothing had changed'}")
            left = host.leftovers(before, config.BRIDGE, self.layout.root)
            if left:
                raise UserError(
                    f"the real node left {len(left)} thing(s) behind: {'; '.join(left)} (the cluster directory "
                    f"{self.cluster.root} is kept for a look)"
                )
            self.progress("cluster: real node: nothing left (processes, mounts, cgroups, bridge, iptables, sysctls)")
        return stopped

    def _crictl(self, args: list[str]):
        endpoint = f"unix://{self.layout.socket}"
        crictl = str(build.node_binaries().crictl)
        return run([crictl, "--runtime-endpoint", endpoint, "--timeout", "30s", *args], check=False, timeout=120)

    def _remove_pods(self) -> None:
        """Every sandbox the node still has, stopped and removed through CRI (its network torn down by CNI)."""
        result = self._crictl(["rmp", "--all", "--force"])
        if result.code != 0:
            self.progress(f"cluster: crictl rmp: {result.stderr.strip()[:300]}")

    def _kill_leftover_processes(self, before: host.Snapshot | None) -> None:
        """containerd's shims of this node (they name its socket), then anything still in the pods' cgroups."""
        socket = str(self.layout.socket).encode()
        for pid in _pids():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"containerd-shim" in cmdline and socket in cmdline:
                _kill(pid)
        for cgroup in host.kubepods_cgroups():
            if before is None or str(cgroup) in before.cgroups:
                continue
            procs = cgroup / "cgroup.procs"
            try:
                pids = [int(p) for p in procs.read_text().split()]
            except OSError:
                continue
            for pid in pids:
                _kill(pid)


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)

